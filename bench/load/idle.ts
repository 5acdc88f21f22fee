// Idle open calls (server streams over HTTP, or WebSocket calls): what each costs the front in memory,
// and whether the front cancels the upstream call when its client goes away.
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../../testing/net.js";
import { IDLE_NAME, IDLE_REPLY, paths } from "../greeter/contract.js";
import type { BenchProcess } from "../setups.js";
import { helloReplyPayload, helloRequestFrame } from "../wire/frames.js";
import { type Expectation, ResponseCheck } from "../wire/response-check.js";
import { createCaller } from "./callers.js";

/** The request that makes a Greeter call idle, and the one reply it gets before it waits. */
export const idleRequestFrame: Buffer = helloRequestFrame(IDLE_NAME);
export const idleReply: Expectation = { payload: helloReplyPayload(IDLE_REPLY), messages: 1 };

/** Idle calls as one way of calling opens them; `close` goes away from all of them, as clients do. */
export interface IdleCalls {
  close(): Promise<void>;
}

export interface IdlePlan {
  /** Opens `count` calls that each get one reply and then wait; `onFirstReply` counts the replies. */
  open: (count: number, onFirstReply: () => void) => Promise<IdleCalls>;
  streams: number;
  /** The front's memory after a full GC, so only live memory shows. */
  frontMemory: () => Promise<Memory>;
  /** The process running the Greeter's handlers, which counts the calls still open. */
  greeter: BenchProcess;
}

/** Idle server streams over gRPC-Web, one keep-alive HTTP/1.1 connection each. */
export function openIdleStreams(origin: string): IdlePlan["open"] {
  return async (count, onFirstReply) => {
    const caller = createCaller({ origin, protocol: "grpc-web", connections: count });
    const calls = Array.from({ length: count }, () =>
      caller.call(paths.serverStream, idleRequestFrame, new ResponseCheck(idleReply, onFirstReply)),
    );
    return {
      async close() {
        await caller.close();
        await Promise.all(calls);
      },
    };
  };
}

export interface Memory {
  rss: number;
  /** Bytes in use on the JS heap; undefined when the process cannot be asked. */
  heap: number | undefined;
}

export interface IdleCycle {
  before: Memory;
  open: Memory;
  afterClose: Memory;
  /** Streams that delivered their first reply (are really open end to end). */
  opened: number;
  /** Backend calls still running after every client closed and the front had time to react. */
  leftOpen: number;
}

const SETTLE_MS = 300;
const CANCEL_GRACE_MS = 1500;

export async function idleCycle(plan: IdlePlan): Promise<IdleCycle> {
  const openBefore = await plan.greeter.openCalls();
  const before = await plan.frontMemory();
  let opened = 0;
  const calls = await plan.open(plan.streams, () => opened++);
  await waitFor(() => (opened === plan.streams ? true : undefined), 20_000).catch(() => undefined);
  await sleep(SETTLE_MS);
  const open = await plan.frontMemory();
  await calls.close();
  const leftOpen = await waitFor(async () => {
    const open = (await plan.greeter.openCalls()) - openBefore;
    return open === 0 ? 0 : undefined;
  }, CANCEL_GRACE_MS).catch(async () => (await plan.greeter.openCalls()) - openBefore);
  await sleep(SETTLE_MS);
  return { before, open, afterClose: await plan.frontMemory(), opened, leftOpen };
}
