// Idle open streams: what each costs the front in memory, and whether the front cancels the
// upstream call when its client goes away.
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../../testing/net.js";
import type { BenchProcess } from "../setups.js";
import { type Expectation, ResponseCheck } from "../wire/response-check.js";
import { createCaller } from "./callers.js";

export interface IdlePlan {
  origin: string;
  path: string;
  requestFrame: Buffer;
  /** The one reply an idle stream sends before it waits. */
  expect: Expectation;
  streams: number;
  /** The front's memory after a full GC, so only live memory shows. */
  frontMemory: () => Promise<Memory>;
  /** The process running the Greeter's handlers, which counts the calls still open. */
  greeter: BenchProcess;
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
  const caller = createCaller({ origin: plan.origin, protocol: "grpc-web", connections: plan.streams });
  let opened = 0;
  const calls = Array.from({ length: plan.streams }, () =>
    caller.call(plan.path, plan.requestFrame, new ResponseCheck(plan.expect, () => opened++)),
  );
  await waitFor(() => (opened === plan.streams ? true : undefined), 20_000).catch(() => undefined);
  await sleep(SETTLE_MS);
  const open = await plan.frontMemory();
  await caller.close();
  await Promise.all(calls);
  const leftOpen = await waitFor(async () => {
    const open = (await plan.greeter.openCalls()) - openBefore;
    return open === 0 ? 0 : undefined;
  }, CANCEL_GRACE_MS).catch(async () => (await plan.greeter.openCalls()) - openBefore);
  await sleep(SETTLE_MS);
  return { before, open, afterClose: await plan.frontMemory(), opened, leftOpen };
}
