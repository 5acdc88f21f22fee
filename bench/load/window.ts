// A measurement window inside a load run: warm-up first, then CPU is metered for a fixed span.
import type { CpuMeter, CpuSpent } from "../procs/usage.js";

export interface WindowTimes {
  startMs: number;
  endMs: number;
  /** The CPU of each metered process inside the window. */
  cpu: Map<string, CpuSpent>;
}

/** Starts the meter after `warmupMs` and stops it `durationMs` later; resolves with the actual times. */
export function meterWindow(meter: CpuMeter, warmupMs: number, durationMs: number): Promise<WindowTimes> {
  return new Promise((resolve) => {
    setTimeout(() => {
      meter.start();
      const startMs = performance.now();
      setTimeout(() => {
        const cpu = meter.stop();
        resolve({ startMs, endMs: performance.now(), cpu });
      }, durationMs);
    }, warmupMs);
  });
}
