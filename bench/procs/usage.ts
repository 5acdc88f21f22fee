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

/** The process's user and kernel time so far, in clock ticks (10 ms here): fields 14 and 15 of /proc/<pid>/stat. */
function userKernelTicks(pid: number): [user: number, kernel: number] {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[11]), Number(fields[12])];
}

/** One process's CPU over a metered span. */
export interface CpuSpent {
  /** Microseconds on a CPU, all threads (schedstat). */
  us: number;
  /**
   * The part of them spent in the kernel (system calls, and the socket work they do), 0 to 1. From 10 ms ticks,
   * so only spans of seconds give a useful share: it shows how much of a front's cost no user-space change reaches.
   */
  kernelShare: number;
}

/** The CPU of each named process between start() and stop(). */
export class CpuMeter {
  private started = new Map<string, { nanos: number; ticks: [number, number] }>();

  constructor(private readonly pids: ReadonlyMap<string, number>) {}

  start(): void {
    for (const [name, pid] of this.pids)
      this.started.set(name, { nanos: cpuNanos(pid), ticks: userKernelTicks(pid) });
  }

  stop(): Map<string, CpuSpent> {
    const spent = new Map<string, CpuSpent>();
    for (const [name, pid] of this.pids) {
      const start = this.started.get(name);
      if (!start) throw new Error("CpuMeter.stop() before start()");
      const [user, kernel] = userKernelTicks(pid);
      const kernelTicks = kernel - start.ticks[1];
      const allTicks = user - start.ticks[0] + kernelTicks;
      spent.set(name, {
        us: (cpuNanos(pid) - start.nanos) / 1000,
        kernelShare: allTicks > 0 ? kernelTicks / allTicks : Number.NaN,
      });
    }
    return spent;
  }
}
