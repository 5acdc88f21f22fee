// Server-streaming load: `concurrency` streams at once, each expected to deliver every reply.
import type { CpuMeter, CpuSpent } from "../procs/usage.js";
import { type Expectation, ResponseCheck } from "../wire/response-check.js";
import type { Caller } from "./callers.js";

export interface StreamPlan {
  path: string;
  requestFrame: Buffer;
  expect: Expectation;
  concurrency: number;
}

export interface StreamResult {
  /** Replies of the streams that verified completely; a stream cut short scores nothing. */
  messages: number;
  failed: number;
  firstFailure: string | undefined;
  elapsedMs: number;
  cpu: Map<string, CpuSpent>;
}

export async function runStreams(caller: Caller, plan: StreamPlan, meter: CpuMeter): Promise<StreamResult> {
  const checks = Array.from({ length: plan.concurrency }, () => new ResponseCheck(plan.expect));
  return meterCalls(checks, meter, (check) => caller.call(plan.path, plan.requestFrame, check));
}

/** Runs one call per check at once under `meter`; counts the replies of the calls that verified. */
export async function meterCalls(
  checks: ResponseCheck[],
  meter: CpuMeter,
  call: (check: ResponseCheck, i: number) => Promise<void>,
): Promise<StreamResult> {
  meter.start();
  const started = performance.now();
  await Promise.all(checks.map(call));
  const elapsedMs = performance.now() - started;
  const cpu = meter.stop();
  const verdicts = checks.map((check) => check.verdict());
  const verified = checks.filter((_, i) => verdicts[i] === undefined);
  return {
    messages: verified.reduce((sum, check) => sum + check.messages, 0),
    failed: checks.length - verified.length,
    firstFailure: verdicts.find((verdict) => verdict !== undefined),
    elapsedMs,
    cpu,
  };
}
