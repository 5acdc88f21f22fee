// A running CLI's reloads, as a test sees them: its config file, its /metrics and /readyz, its log.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../../testing/net.js";
import { startBackend } from "./backends.js";
import { type RunningCli, startCli } from "./cli-process.js";
import { grpcWebCall } from "./grpc-web-client.js";
import { helloRequest } from "./hello-messages.js";

export const SAY_HELLO = "/helloworld.Greeter/SayHello";

/** A config file whose `greeter` upstream is `address`, and the routes given. */
export const configText = (address: string, routes: readonly string[]) =>
  [
    // A setting of the Node server's, not the plugin's, which a reload keeps as it started.
    "headersTimeout: 10s",
    "upstreams:",
    "  greeter:",
    `    addresses: [${address}]`,
    "routes:",
    ...routes.map((match) => `  - { match: ${match}, upstream: greeter }`),
    "",
  ].join("\n");

export async function reloads(cli: RunningCli): Promise<{ ok: number; failed: number }> {
  const text = await (await fetch(`${cli.adminUrl}/metrics`)).text();
  const count = (result: string) =>
    Number(
      new RegExp(`^grpc_web_bridge_config_reloads_total\\{result="${result}"\\} (\\d+)$`, "m").exec(
        text,
      )?.[1],
    );
  return { ok: count("ok"), failed: count("failed") };
}

export async function version(cli: RunningCli): Promise<string> {
  const report = (await (await fetch(`${cli.adminUrl}/readyz`)).json()) as { configVersion?: string };
  assert.match(report.configVersion ?? "", /^[0-9a-f]{12}$/);
  return report.configVersion as string;
}

/** Waits until /metrics has counted `ok` good and `failed` rejected reloads. */
export const reloaded = (cli: RunningCli, ok: number, failed = 0) =>
  waitFor(async () => {
    const counted = await reloads(cli);
    return counted.ok === ok && counted.failed === failed ? true : undefined;
  }, 30_000);

/** Waits for a log line matching `pattern`: the CLI writes its log in batches, up to a second late. */
export const logged = (cli: RunningCli, pattern: RegExp) =>
  waitFor(() => (pattern.test(cli.log()) ? true : undefined), 10_000);

export const call = (cli: RunningCli, path: string, headers: Record<string, string> = {}) =>
  grpcWebCall(cli.url, path, { message: helloRequest("reload"), headers });

/** The processes (the primary, workers) that logged a line whose message matches `pattern`. */
export function pidsLogging(cli: RunningCli, pattern: RegExp): Set<unknown> {
  return new Set(
    lineObjects(cli.log())
      .filter((line) => pattern.test(String(line.msg)))
      .map((line) => line.pid),
  );
}

function lineObjects(log: string): Record<string, unknown>[] {
  return log
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Where a CLI of `withConfiguredCli` reads its configuration. */
export interface ConfigPlace {
  /** The config file, in a directory of its own: the other files a test writes go beside it. */
  readonly file: string;
  readonly dir: string;
  /** The connect-node greeter the configuration can name. */
  readonly backendUrl: string;
}

/**
 * Runs `use` on a CLI started with `--config` on the text `config` returns (it may write other files in the
 * directory first). The CLI and the greeter stop afterwards, whatever `use` did.
 */
export async function withConfiguredCli(
  config: (place: ConfigPlace) => Promise<string> | string,
  use: (cli: RunningCli, place: ConfigPlace) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "bridge-config-"));
  const backend = await startBackend("connect-node");
  const place = { file: join(dir, "bridge.yaml"), dir, backendUrl: backend.url };
  try {
    await writeFile(place.file, await config(place));
    const cli = await startCli(["--config", place.file]);
    try {
      await use(cli, place);
    } finally {
      cli.child.kill("SIGKILL");
      await cli.exited;
    }
  } finally {
    await backend.close();
  }
}
