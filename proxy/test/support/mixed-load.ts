// Mixed gRPC-Web load for the leak test and the soak: unary, server-streaming (binary and text) and failing
// calls, each ending normally, cancelled by the client, or at its deadline. Every call knows the outcome it
// must have; anything else is counted as an error, by kind.
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { type GrpcWebResult, grpcWebCall } from "./grpc-web-client.js";
import { helloRequest } from "./hello-messages.js";

export const KINDS = ["unary", "stream", "text-stream", "failing"] as const;
export const ENDINGS = ["complete", "cancelled", "deadline"] as const;
export type Kind = (typeof KINDS)[number];
export type Ending = (typeof ENDINGS)[number];

export interface MixedCall {
  readonly kind: Kind;
  readonly ending: Ending;
  /** For a cancelled call: ms after sending when the client gives up. */
  readonly cancelAfterMs: number;
}

/** The i-th call of the mix: kinds in turn and endings in turn across them, so that every pair comes up evenly. */
export function mixedCall(i: number): MixedCall {
  return {
    kind: KINDS[i % KINDS.length] as Kind,
    ending: ENDINGS[Math.floor(i / KINDS.length) % ENDINGS.length] as Ending,
    cancelAfterMs: (i * 7) % 20,
  };
}

const STATUS = { OK: 0, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5 } as const;
const STREAM_COUNT = 3;

/** The request of a call: the backend's plan headers make it end as planned (see greeter-plan.ts). */
function requestOf({ kind, ending }: MixedCall): {
  path: string;
  headers: Record<string, string>;
  text: boolean;
} {
  const unary = kind === "unary" || kind === "failing";
  const path = unary ? "/helloworld.Greeter/SayHello" : "/helloworld.Greeter/SayHelloStreamReply";
  const headers: Record<string, string> = {};
  if (kind === "failing") {
    headers["x-fail-code"] = String(STATUS.NOT_FOUND);
    headers["x-fail-message"] = "no such greeting";
  }
  if (ending !== "complete") {
    // Long enough that only the client or the deadline can end it.
    if (unary) headers["x-sleep-ms"] = "2000";
    else Object.assign(headers, { "x-stream-count": "400", "x-stream-interval-ms": "5" });
  } else if (!unary) {
    headers["x-stream-count"] = String(STREAM_COUNT);
  }
  if (ending === "deadline") headers["grpc-timeout"] = "15m";
  return { path, headers, text: kind === "text-stream" };
}

/** "ok" when the result is the one the call must have, else what went wrong. */
function verdict(call: MixedCall, result: GrpcWebResult): string {
  if (call.ending === "deadline") return expectStatus(result, STATUS.DEADLINE_EXCEEDED);
  if (call.kind === "failing") return expectStatus(result, STATUS.NOT_FOUND);
  const wrongStatus = expectStatus(result, STATUS.OK);
  if (wrongStatus !== "ok") return wrongStatus;
  const expected = call.kind === "unary" ? 1 : STREAM_COUNT;
  return result.messages.length === expected ? "ok" : `${result.messages.length} messages`;
}

function expectStatus(result: GrpcWebResult, code: number): string {
  if (result.grpcStatus === code) return "ok";
  return `grpc-status ${result.grpcStatus}: ${(result.grpcMessage ?? "").slice(0, 80)}`;
}

export interface LoadOptions {
  readonly url: string;
  readonly calls: number;
  readonly concurrency: number;
  /** Connections reused as a browser does. */
  readonly agent: http.Agent;
  /** The number of the first call, so that a soak can run its mix in rounds. */
  readonly first?: number;
  /** A pause of each worker between its calls, to pace the load; default none. */
  readonly pauseMs?: number;
}

export interface LoadResult {
  /** Calls by "kind/ending". */
  readonly done: Map<string, number>;
  /** Calls whose outcome was not the planned one, by "kind/ending: what happened". */
  readonly errors: Map<string, number>;
}

/** Runs `calls` calls of the mix, `concurrency` at a time. */
export async function runMixedLoad(options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { done: new Map(), errors: new Map() };
  const first = options.first ?? 0;
  let next = first;
  const worker = async () => {
    while (next < first + options.calls) {
      const call = mixedCall(next++);
      const name = `${call.kind}/${call.ending}`;
      const outcome = await runCall(options, call);
      count(result.done, name);
      if (outcome !== "ok") count(result.errors, `${name}: ${outcome}`);
      if (options.pauseMs) await sleep(options.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return result;
}

async function runCall(options: LoadOptions, call: MixedCall): Promise<string> {
  const { path, headers, text } = requestOf(call);
  const abort = new AbortController();
  const timer = call.ending === "cancelled" ? setTimeout(() => abort.abort(), call.cancelAfterMs) : undefined;
  try {
    const result = await grpcWebCall(options.url, path, {
      message: helloRequest("load"),
      headers,
      text,
      agent: options.agent,
      signal: abort.signal,
    });
    return call.ending === "cancelled"
      ? `not cancelled: grpc-status ${result.grpcStatus}`
      : verdict(call, result);
  } catch (error) {
    if (abort.signal.aborted) return "ok";
    return `client error: ${(error as Error).message.slice(0, 80)}`;
  } finally {
    clearTimeout(timer);
  }
}

function count(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
