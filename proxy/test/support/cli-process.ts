// The proxy's CLI in a process of its own, as operators run it, with an admin listener: for tests that need the
// proxy's own memory (RSS) apart from the test's, or its signals and exit.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { dieWithTest } from "../../../testing/lifeline.js";
import { freePort, waitFor } from "../../../testing/net.js";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

export interface RunningCli {
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT of gRPC-Web */
  readonly url: string;
  /** http://127.0.0.1:PORT of /healthz, /readyz and /metrics */
  readonly adminUrl: string;
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr. */
  readonly log: () => string;
}

/** Starts the CLI with `args` (--upstream and the like) on free loopback ports; resolves once both listen. */
export async function startCli(args: readonly string[]): Promise<RunningCli> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      CLI,
      "--listen",
      `127.0.0.1:${port}`,
      "--admin-listen",
      `127.0.0.1:${adminPort}`,
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  dieWithTest(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  // The admin listener starts after the public one: its answer means both are up, whatever the log level.
  await waitFor(
    () =>
      fetch(`${adminUrl}/healthz`).then(
        (r) => r.ok || undefined,
        () => undefined,
      ),
    60_000, // a bound, not an expectation: tsx compiling the CLI on a loaded 2-core machine took over 15 s
  );
  return { child, url: `http://127.0.0.1:${port}`, adminUrl, exited, log: () => output };
}
