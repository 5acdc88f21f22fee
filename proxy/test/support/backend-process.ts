// A test backend in a process of its own: its memory is not the test's (a leak test measures the proxy's), and
// a test can signal it (SIGSTOP for a backend that hangs, SIGKILL for one that crashes).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { BackendKind } from "./backends.js";

const MAIN = new URL("./backend-main.ts", import.meta.url).pathname;

export interface BackendProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly pid: number;
  /** SIGKILL, whatever state it is in (a stopped process included); resolves once it has exited. */
  kill(): Promise<void>;
}

export async function startBackendProcess(kind: BackendKind): Promise<BackendProcess> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, kind], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const [port] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
