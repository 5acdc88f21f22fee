// The proxy's CLI in a process of its own, as operators run it, with an admin listener: for tests that need the
// proxy's own memory (RSS) apart from the test's, or its signals and exit.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before } from "node:test";
import { dieWithTest } from "../../../testing/lifeline.js";
import { freePort, waitFor } from "../../../testing/net.js";
import { type Backend, startBackend } from "./backends.js";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
/** How long the CLI may take to serve before the test gives up on it. */
const STARTUP_MS = 60_000;

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

/**
 * Starts the CLI with `args` (--upstream and the like) on free loopback ports; resolves once both listen.
 * `onSpawn` sees the process at once, for a test of what it does while it starts.
 */
export async function startCli(
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
  onSpawn?: (child: ChildProcess) => void,
): Promise<RunningCli> {
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
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } },
  );
  dieWithTest(child);
  onSpawn?.(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const url = `http://127.0.0.1:${port}`;
  // The admin listener starts first, then the public one: both answering means both are up, whatever the log level.
  // tsx compiles the CLI first, which on a loaded 2-core machine takes many seconds: the bound is a ceiling.
  await waitFor(
    () =>
      fetch(`${adminUrl}/healthz`).then(
        (r) => r.ok || undefined,
        () => undefined,
      ),
    STARTUP_MS,
  );
  await waitFor(() => accepts(port), STARTUP_MS);
  return { child, url, adminUrl, exited, log: () => output };
}

/** True once a TCP connection to the port opens (closed at once, so no idle connection is left behind). */
function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(undefined));
  });
}

/**
 * The CLI in front of a connect-node backend, for the enclosing describe: a process of its own, so that its RSS is
 * the proxy's alone. `cli` is set once the describe's `before` ran.
 */
export function cliInFrontOfConnectNode(): { readonly cli: RunningCli } {
  const running = {} as { backend: Backend; cli: RunningCli };
  before(async () => {
    running.backend = await startBackend("connect-node");
    running.cli = await startCli(["--upstream", running.backend.url, "--log-level", "warn"]);
  });
  after(async () => {
    running.cli?.child.kill("SIGKILL");
    await running.cli?.exited;
    await running.backend?.close();
  });
  return running;
}
