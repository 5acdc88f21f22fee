// Completed calls with their end times, so a measurement window can be cut out afterwards.

export interface WindowResult {
  /** Verified successes that ended inside the window. */
  ok: number;
  failed: number;
  firstFailure: string | undefined;
  /** Latencies of the verified successes, in milliseconds. */
  latenciesMs: number[];
  windowMs: number;
}

export class Samples {
  private readonly ends: number[] = [];
  private readonly latencies: number[] = [];
  private readonly failureEnds: number[] = [];
  private firstFailure: string | undefined;

  add(endMs: number, latencyMs: number, failure: string | undefined): void {
    if (failure === undefined) {
      this.ends.push(endMs);
      this.latencies.push(latencyMs);
    } else {
      this.failureEnds.push(endMs);
      this.firstFailure ??= failure;
    }
  }

  window(fromMs: number, toMs: number): WindowResult {
    const inside = (end: number) => end >= fromMs && end < toMs;
    const latenciesMs = this.latencies.filter((_, i) => inside(this.ends[i] ?? -1));
    return {
      ok: latenciesMs.length,
      failed: this.failureEnds.filter(inside).length,
      firstFailure: this.firstFailure,
      latenciesMs,
      windowMs: toMs - fromMs,
    };
  }
}
