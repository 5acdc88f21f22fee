// Unary load: closed loop (N callers back to back) or open loop at a fixed rate.
import type { CpuSpent } from "../procs/usage.js";
import { type Expectation, ResponseCheck } from "../wire/response-check.js";
import type { Caller } from "./callers.js";
import { Samples, type WindowResult } from "./samples.js";
import type { WindowTimes } from "./window.js";

export interface UnaryPlan {
  path: string;
  requestFrame: Buffer;
  expect: Expectation;
  /** Calls stop being started once this resolves (the end of the measurement window). */
  window: Promise<WindowTimes>;
}

export interface UnaryResult extends WindowResult {
  cpu: Map<string, CpuSpent>;
}

async function timedCall(caller: Caller, plan: UnaryPlan, samples: Samples): Promise<void> {
  const check = new ResponseCheck(plan.expect);
  const started = performance.now();
  await caller.call(plan.path, plan.requestFrame, check);
  const ended = performance.now();
  samples.add(ended, ended - started, check.verdict());
}

async function finish(plan: UnaryPlan, samples: Samples, running: Promise<unknown>): Promise<UnaryResult> {
  const times = await plan.window;
  await running;
  return { ...samples.window(times.startMs, times.endMs), cpu: times.cpu };
}

/** `concurrency` callers, each starting its next call as soon as the previous one ends. */
export function closedLoop(caller: Caller, plan: UnaryPlan, concurrency: number): Promise<UnaryResult> {
  const samples = new Samples();
  let open = true;
  void plan.window.then(() => {
    open = false;
  });
  const worker = async () => {
    while (open) await timedCall(caller, plan, samples);
  };
  return finish(plan, samples, Promise.all(Array.from({ length: concurrency }, worker)));
}

/**
 * Starts calls on a fixed schedule whether or not earlier ones have ended (an open loop), so a slow
 * server cannot slow the offered load down. Latency runs from the call's start to its end.
 */
export function fixedRate(caller: Caller, plan: UnaryPlan, perSecond: number): Promise<UnaryResult> {
  const samples = new Samples();
  const inFlight = new Set<Promise<void>>();
  let open = true;
  void plan.window.then(() => {
    open = false;
  });
  const schedule = async () => {
    const first = performance.now();
    for (let i = 0; open; i++) {
      const wait = first + (i * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const call = timedCall(caller, plan, samples).finally(() => inFlight.delete(call));
      inFlight.add(call);
    }
    await Promise.all(inFlight);
  };
  return finish(plan, samples, schedule());
}
