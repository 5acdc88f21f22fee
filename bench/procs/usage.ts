// CPU time and resident memory of processes, read from /proc (Linux only).
import { readdirSync, readFileSync } from "node:fs";

/**
 * Nanoseconds the process has run on a CPU, summed over its threads. schedstat has nanosecond
 * resolution where /proc/<pid>/stat counts 10 ms ticks, too coarse for a one-second stream.
 */
export function cpuNanos(pid: number): number {
  let total = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, "latin1").split(" ")[0]);
    } catch {
      // The thread exited between the listing and the read; its time is lost either way.
    }
  }
  return total;
}

export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU microseconds per named process between start() and stop(). */
export class CpuMeter {
  private startNanos = new Map<string, number>();

  constructor(private readonly pids: ReadonlyMap<string, number>) {}

  start(): void {
    for (const [name, pid] of this.pids) this.startNanos.set(name, cpuNanos(pid));
  }

  stop(): Map<string, number> {
    const used = new Map<string, number>();
    for (const [name, pid] of this.pids)
      used.set(name, (cpuNanos(pid) - (this.startNanos.get(name) ?? 0)) / 1000);
    return used;
  }
}
