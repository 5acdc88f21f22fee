import assert from "node:assert/strict";

/**
 * Checks that replies timed from the start of the call came `delayMs` apart, in a way that load can't
 * break: reply i can't arrive before i delays have passed (arrival jitter only makes replies later), and
 * a stream whose replies all arrived at once would have no spread between the first and the last.
 */
export function assertPaced(arrivalsMs: readonly number[], delayMs: number): void {
  arrivalsMs.forEach((at, index) => {
    // 2 ms for rounding: the page shows whole milliseconds.
    assert.ok(
      at >= index * delayMs - 2,
      `reply ${index + 1} came at ${at} ms, before ${index} × ${delayMs} ms`,
    );
  });
  const spread = (arrivalsMs.at(-1) ?? 0) - (arrivalsMs[0] ?? 0);
  assert.ok(spread >= delayMs, `replies ${arrivalsMs} arrived together, not ${delayMs} ms apart`);
}
