// A test backend in a process of its own: its memory is not the test's (a leak test measures the proxy's), and
// a test can signal it (SIGSTOP for a backend that hangs, SIGKILL for one that crashes).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { dieWithTest } from "../../../testing/lifeline.js";
import type { BackendKind } from "./backends.js";

const MAIN = new URL("./backend-main.ts", import.meta.url).pathname;

export interface BackendProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGKILL, whatever state it is in (a stopped process included); resolves once it has exited. */
  kill(): Promise<void>;
}

/** Starts one on `port` when given (to restart one in place), else on a free port. */
export async function startBackendProcess(kind: BackendKind, port?: number): Promise<BackendProcess> {
  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    MAIN,
    kind,
    ...(port === undefined ? [] : [String(port)]),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
  });
  dieWithTest(child);
  const exited = once(child, "exit");
  const listening = once(createInterface({ input: child.stdout }), "line") as Promise<[string]>;
  const failed = exited.then(([code]) => {
    throw new Error(`the ${kind} backend process exited (${code}) before it listened`);
  });
  // Once it listens, its exit (a kill) is no failure.
  failed.catch(() => {});
  const [line] = await Promise.race([listening, failed]);
  return {
    url: `http://127.0.0.1:${line}`,
    port: Number(line),
    pid: child.pid as number,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
