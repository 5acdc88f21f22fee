// Bench processes pinned to one CPU with taskset, so every setup gets the same layout:
// front (proxy or direct server) on CPU 0, load generator and backend on CPU 1.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { dieWithTest } from "../../testing/lifeline.js";
import { waitFor } from "../../testing/net.js";

export const FRONT_CPU = 0;
export const LOAD_CPU = 1;

/** Pins every thread of this process (the load generator) to the load CPU. */
export function pinSelf(): void {
  execFileSync("taskset", ["--all-tasks", "--pid", "--cpu-list", String(LOAD_CPU), String(process.pid)], {
    stdio: "ignore",
  });
}

/** Starts a TypeScript entry of the bench (path relative to bench/) under tsx, pinned to `cpu`. */
export function spawnBenchScript(
  cpu: number,
  logName: string,
  script: string,
  args: string[],
  nodeFlags: string[] = [],
): ChildProcess {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  return spawnPinned(cpu, logName, [...nodeFlags, "--conditions=source", "--import", "tsx", path, ...args]);
}

/** Every process the bench started and that has not exited yet, with where its output goes. */
const children = new Map<ChildProcess, string>();
const logDir = fileURLToPath(new URL("../results/logs/", import.meta.url));

/**
 * Starts `node <args>` pinned to `cpu`; taskset execs node, so the child's pid is node's, and it dies with
 * this process however this one ends. Its stdout and
 * stderr go to results/logs/<logName>.log: a proxy's access log must not flood the bench's table.
 */
export function spawnPinned(cpu: number, logName: string, nodeArgs: string[]): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const logPath = `${logDir}${logName}.log`;
  const log = openSync(logPath, "a");
  try {
    const child = spawn("taskset", ["--cpu-list", String(cpu), process.execPath, ...nodeArgs], {
      stdio: ["ignore", log, log, "ipc"],
    });
    children.set(child, logPath);
    child.once("exit", () => children.delete(child));
    // A bench or bench test killed before its cleanup must not leave servers holding CPUs and ports.
    dieWithTest(child);
    return child;
  } finally {
    closeSync(log);
  }
}

/** Stops every process the bench started, including any still starting up. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...children.keys()].map(stopProcess));
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export function waitForPort(port: number, child: ChildProcess): Promise<void> {
  return waitFor(async () => {
    if (child.exitCode !== null) {
      throw new Error(
        `process exited with ${child.exitCode} before listening; see ${children.get(child) ?? logDir}`,
      );
    }
    return (await canConnect(port)) ? true : undefined;
  }, 60_000).then(() => undefined); // a bound only: on a loaded 2-core machine tsx took over 15 s to start a process
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Ends a child this bench started, and waits for it (SIGKILL if it ignores SIGTERM). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}
