import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { dieWithTest } from "../../../testing/lifeline.js";
import { freePort, waitFor } from "../../../testing/net.js";

/** The entry points, each with the line it prints once it serves. */
const entries = {
  start: { script: "../../src/start.ts", ready: /Greeter demo: (http:\/\/localhost:\d+)/ },
  dev: {
    script: "../../src/dev.ts",
    ready: /Greeter page \(dev, rebuilt on save\): (http:\/\/localhost:\d+)/,
  },
};

export interface DemoProcess {
  /** The URL the demo printed, e.g. http://localhost:8080. */
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Sends Ctrl-C (SIGINT) and resolves with the exit code. */
  interrupt(): Promise<number | null>;
  /** Kills it if it is still running; for `after` hooks. */
  kill(): Promise<void>;
}

/**
 * Runs what `npm start` (or `npm run dev`) runs, straight from the sources, on free ports, and waits
 * for it to print its URL. `start` needs the page built first; the caller kills it in an `after` hook.
 */
export async function startDemo(
  env: NodeJS.ProcessEnv = {},
  entry: keyof typeof entries = "start",
): Promise<DemoProcess> {
  const { script, ready } = entries[entry];
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", fileURLToPath(new URL(script, import.meta.url))],
    {
      env: { ...process.env, PORT: String(await freePort()), GREETER_PORT: String(await freePort()), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  dieWithTest(child);
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const url = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}:\n${output}`);
    return ready.exec(output)?.[1];
  }, 60_000).catch(async (error: unknown) => {
    await kill();
    throw error;
  });
  return {
    url,
    output: () => output,
    interrupt: () => {
      child.kill("SIGINT");
      return exited;
    },
    kill,
  };
}
