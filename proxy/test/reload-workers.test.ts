// Reloads and the CLI's processes: a SIGHUP that comes while the CLI (or its workers) start is held until it
// serves, not the end of the process; with --workers, a SIGHUP to the primary reloads every worker.
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { waitFor } from "../../testing/net.js";
import { Code } from "../src/index.js";
import { startBackend } from "./support/backends.js";
import { startCli } from "./support/cli-process.js";
import { OtlpReceiver } from "./support/otlp-receiver.js";
import { call, configText, logged, pidsLogging, reloaded, SAY_HELLO } from "./support/reload-cli.js";

describe("SIGHUP while the CLI starts", () => {
  test("is held, not the end of the process, and reloads once the proxy serves", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bridge-early-"));
    const file = join(dir, "bridge.yaml");
    const backend = await startBackend("connect-node");
    // Traces on: the CLI loads the OpenTelemetry SDK between catching SIGHUP and listening, which leaves the
    // signal below a wide window to land in.
    const receiver = new OtlpReceiver();
    const traces = await receiver.start();
    try {
      await writeFile(file, configText(backend.url, ["helloworld.*"]));
      let hungUp: Promise<void> = Promise.resolve();
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: traces, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" };
      const cli = await startCli(["--config", file], env, (child) => {
        hungUp = hangUpOnceCaught(child.pid as number).then(() => void child.kill("SIGHUP"));
      });
      try {
        await hungUp;
        await reloaded(cli, 1);
        await logged(cli, /SIGHUP while starting: configuration unchanged/);
        assert.equal(cli.child.exitCode, null);
        assert.equal((await call(cli, SAY_HELLO)).grpcStatus, Code.OK);
      } finally {
        cli.child.kill("SIGKILL");
        await cli.exited;
      }
    } finally {
      await Promise.all([backend.close(), receiver.close()]);
    }
  });
});

describe("SIGHUP while --workers start", () => {
  test("reaches each worker once it listens, and stops none", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bridge-early-workers-"));
    const file = join(dir, "bridge.yaml");
    const backend = await startBackend("connect-node");
    try {
      await writeFile(file, configText(backend.url, ["helloworld.*"]));
      let hungUp: Promise<void> = Promise.resolve();
      // The primary forks its workers as soon as it catches SIGHUP: they are still loading when it comes.
      const cli = await startCli(
        ["--config", file, "--workers", "2", "--log-format", "json"],
        {},
        (child) => {
          hungUp = hangUpOnceCaught(child.pid as number).then(() => void child.kill("SIGHUP"));
        },
      );
      try {
        await hungUp;
        const reloadedPids = await waitFor(() => {
          // Between its two ports a worker may still be starting: it holds the signal until it serves.
          const pids = pidsLogging(cli, /^SIGHUP( while starting)?: configuration unchanged/);
          return pids.size === 2 ? pids : undefined;
        }, 60_000);
        assert.equal(reloadedPids.has(cli.child.pid), false);
        assert.equal(cli.child.exitCode, null);
        assert.doesNotMatch(cli.log(), /exited/);
        assert.equal((await call(cli, SAY_HELLO)).grpcStatus, Code.OK);
      } finally {
        cli.child.kill("SIGTERM");
        assert.equal(await cli.exited, 0);
      }
    } finally {
      await backend.close();
    }
  });
});

/**
 * Resolves as soon as the process catches SIGHUP (signal 1: the lowest bit of SigCgt in /proc/PID/status): the
 * earliest a SIGHUP cannot end it, which the CLI reaches well before it listens.
 */
async function hangUpOnceCaught(pid: number): Promise<void> {
  await waitFor(async () => {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? "0";
    return (BigInt(`0x${caught}`) & 1n) === 1n ? true : undefined;
  }, 60_000);
}

describe("reload with --workers", () => {
  test("SIGHUP to the primary reloads every worker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bridge-workers-"));
    const file = join(dir, "bridge.yaml");
    const backend = await startBackend("connect-node");
    try {
      await writeFile(file, configText(backend.url, ["grpc.health.v1.Health"]));
      const cli = await startCli(["--config", file, "--workers", "2", "--log-format", "json"]);
      try {
        const workerPids = () => pidsLogging(cli, /^Server listening/);
        await waitFor(() => (workerPids().size >= 2 ? true : undefined), 60_000);
        await writeFile(file, configText(backend.url, ["helloworld.*"]));
        cli.child.kill("SIGHUP");
        const reloadedPids = await waitFor(() => {
          const pids = pidsLogging(cli, /^SIGHUP: configuration reloaded/);
          return pids.size === 2 ? pids : undefined;
        }, 30_000);
        assert.deepEqual(reloadedPids, workerPids());
        await logged(cli, /SIGHUP: passing it to every worker/);
        // Each call on a connection of its own, so that both workers serve some.
        for (let i = 0; i < 4; i++) assert.equal((await call(cli, SAY_HELLO)).grpcStatus, Code.OK);
      } finally {
        cli.child.kill("SIGTERM");
        assert.equal(await cli.exited, 0);
      }
    } finally {
      await backend.close();
    }
  });
});
