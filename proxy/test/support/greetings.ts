// The replies of one test-greeter call, paced as its plan says. Backends only put them on the wire.
import { setTimeout as sleep } from "node:timers/promises";
import type { GreeterPlan } from "./greeter-plan.js";

/** The status a call was asked to fail with (x-fail-code, x-fail-message). */
export class GreeterFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * SayHello's single reply, after x-sleep-ms. Throws GreeterFailure when a failure is planned, and an
 * AbortError when the signal (client cancel or deadline) fires first.
 */
export async function unaryGreeting(plan: GreeterPlan, name: string, signal: AbortSignal): Promise<string> {
  await pause(plan.sleepMs, signal);
  if (plan.failure) throw new GreeterFailure(plan.failure.code, plan.failure.message);
  return plan.empty ? "" : reply(plan, `Hello, ${name}!`);
}

/**
 * SayHelloStreamReply's replies: x-stream-count of them, the first after x-sleep-ms, the rest
 * x-stream-interval-ms apart. A planned failure takes the place of message x-fail-after + 1.
 */
export async function* streamGreetings(
  plan: GreeterPlan,
  name: string,
  signal: AbortSignal,
): AsyncGenerator<string> {
  await pause(plan.sleepMs, signal);
  const count = plan.empty ? 0 : plan.streamCount;
  const failAt = plan.failure ? Math.min(plan.failure.afterMessages, count) : count;
  for (let i = 0; i < failAt; i++) {
    if (i > 0) await pause(plan.intervalMs, signal);
    yield reply(plan, `Hello, ${name}! #${i + 1}`);
  }
  if (plan.failure) {
    if (failAt > 0) await pause(plan.intervalMs, signal);
    throw new GreeterFailure(plan.failure.code, plan.failure.message);
  }
}

/** SayHelloBidiStream: one greeting per request message, as they come; only x-echo-* applies to it. */
export async function* bidiGreetings(requests: AsyncIterable<{ name: string }>): AsyncGenerator<string> {
  for await (const request of requests) yield `Hello, ${request.name}!`;
}

function reply(plan: GreeterPlan, greeting: string): string {
  return plan.replyBytes === undefined ? greeting : "x".repeat(plan.replyBytes);
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms > 0) await sleep(ms, undefined, { signal });
}
