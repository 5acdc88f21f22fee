// Reloading the configuration of a running CLI, over real sockets: SIGHUP (and, with --watch-config, a changed file)
// brings new routes, upstreams and tokens to new calls, while a call in flight finishes where it started; a broken
// file changes nothing and is logged with its line and column; /metrics counts reloads, /readyz shows the version;
// with --workers, every worker reloads.
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../testing/net.js";
import { Code } from "../src/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { type RunningCli, startCli } from "./support/cli-process.js";
import { startConnectNodeBackend } from "./support/connect-node-backend.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { ObservationLog } from "./support/observations.js";
import { OtlpReceiver } from "./support/otlp-receiver.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";

/** A config file whose `greeter` upstream is `address`, and the routes given. */
const configText = (address: string, routes: readonly string[]) =>
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

async function reloads(cli: RunningCli): Promise<{ ok: number; failed: number }> {
  const text = await (await fetch(`${cli.adminUrl}/metrics`)).text();
  const count = (result: string) =>
    Number(
      new RegExp(`^grpc_web_bridge_config_reloads_total\\{result="${result}"\\} (\\d+)$`, "m").exec(
        text,
      )?.[1],
    );
  return { ok: count("ok"), failed: count("failed") };
}

async function version(cli: RunningCli): Promise<string> {
  const report = (await (await fetch(`${cli.adminUrl}/readyz`)).json()) as { configVersion?: string };
  assert.match(report.configVersion ?? "", /^[0-9a-f]{12}$/);
  return report.configVersion as string;
}

/** Waits until /metrics has counted `ok` good and `failed` rejected reloads. */
const reloaded = (cli: RunningCli, ok: number, failed = 0) =>
  waitFor(async () => {
    const counted = await reloads(cli);
    return counted.ok === ok && counted.failed === failed ? true : undefined;
  }, 30_000);

/** Waits for a log line matching `pattern`: the CLI writes its log in batches, up to a second late. */
const logged = (cli: RunningCli, pattern: RegExp) =>
  waitFor(() => (pattern.test(cli.log()) ? true : undefined), 10_000);

const call = (cli: RunningCli, path: string, headers: Record<string, string> = {}) =>
  grpcWebCall(cli.url, path, { message: helloRequest("reload"), headers });

describe("reload on SIGHUP", () => {
  let dir: string;
  let file: string;
  let first: Backend;
  let second: Backend;
  let cli: RunningCli;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bridge-reload-"));
    file = join(dir, "bridge.yaml");
    [first, second] = await Promise.all([startBackend("connect-node"), startBackend("connect-node")]);
    await writeFile(file, configText(first.url, ["grpc.health.v1.Health"]));
    cli = await startCli(["--config", file]);
  });
  after(async () => {
    cli?.child.kill("SIGKILL");
    await cli?.exited;
    await Promise.all([first?.close(), second?.close()]);
  });

  test("a route the new file adds serves the next call; the version changes and the reload is counted", async () => {
    const unrouted = await call(cli, SAY_HELLO);
    assert.equal(unrouted.grpcStatus, Code.UNIMPLEMENTED);
    const before = await version(cli);
    assert.deepEqual(await reloads(cli), { ok: 0, failed: 0 });

    await writeFile(
      file,
      configText(first.url, ["grpc.health.v1.Health", "helloworld.*"]).replace("10s", "20s"),
    );
    cli.child.kill("SIGHUP");
    await reloaded(cli, 1);
    const routed = await call(cli, SAY_HELLO);
    assert.equal(routed.grpcStatus, Code.OK);
    assert.notEqual(await version(cli), before);
    await logged(cli, /SIGHUP: configuration reloaded \(version [0-9a-f]{12} -> [0-9a-f]{12}\)/);
    await logged(cli, /SIGHUP: headersTimeout changed in the configuration but need a restart/);
  });

  test("a broken file is rejected whole, logged with its line and column; the old one keeps serving", async () => {
    const serving = await version(cli);
    // Two problems: a typo'd key, and a route to an upstream nobody defined.
    await writeFile(
      file,
      `${configText(second.url, ["helloworld.*"])}  - { match: acme.*, upstream: billing }\nmaxTimout: 5s\n`,
    );
    cli.child.kill("SIGHUP");
    await reloaded(cli, 1, 1);
    await logged(
      cli,
      new RegExp(`SIGHUP: configuration rejected, version ${serving} still serving: 2 problems:`),
    );
    assert.ok(
      cli.log().includes(`${file}:7:32: routes[1].upstream: no upstream named \\"billing\\"`),
      cli.log(),
    );
    assert.ok(cli.log().includes(`${file}:8:1: maxTimout: unknown key`), cli.log());
    assert.equal(await version(cli), serving);
    const result = await call(cli, SAY_HELLO, { "x-request-id": "after-bad-file" });
    assert.equal(result.grpcStatus, Code.OK);
    await first.waitFor((o) => o.metadata["x-request-id"] === "after-bad-file");
  });

  test("a stream in flight across a reload that moves its upstream ends normally; the next call goes to the new one", async () => {
    let firstMessage: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      firstMessage = resolve;
    });
    const stream = grpcWebCall(cli.url, STREAM, {
      message: helloRequest("long"),
      headers: { "x-request-id": "long-stream", "x-stream-count": "6", "x-stream-interval-ms": "250" },
      onMessage: () => firstMessage(),
    });
    await started;
    const { ok, failed } = await reloads(cli);
    await writeFile(file, configText(second.url, ["grpc.health.v1.Health", "helloworld.*"]));
    cli.child.kill("SIGHUP");
    await reloaded(cli, ok + 1, failed);
    const moved = await call(cli, SAY_HELLO, { "x-request-id": "after-move" });
    assert.equal(moved.grpcStatus, Code.OK);
    await second.waitFor((o) => o.metadata["x-request-id"] === "after-move");

    const result = await stream;
    assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
    assert.equal(helloReplies(result.messages).length, 6);
    await first.waitFor((o) => o.event === "finished" && o.metadata["x-request-id"] === "long-stream");
    assert.equal(
      second.observations.some((o) => o.metadata["x-request-id"] === "long-stream"),
      false,
      "the stream stayed on the upstream it started on",
    );
  });
});

describe("a reload that changes the log level", () => {
  test("new calls and the upstreams it keeps log at the new level", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bridge-level-"));
    const file = join(dir, "bridge.yaml");
    const backend = await startBackend("connect-node");
    const config = (level: string) => `logLevel: ${level}\n${configText(backend.url, ["helloworld.*"])}`;
    try {
      await writeFile(file, config("error"));
      const cli = await startCli(["--config", file, "--log-format", "json"]);
      try {
        const accessLine = (id: string) => new RegExp(`"reqId":"${id}".*"msg":"call"`);
        assert.equal((await call(cli, SAY_HELLO, { "x-request-id": "at-error" })).grpcStatus, Code.OK);
        await writeFile(file, config("info"));
        cli.child.kill("SIGHUP");
        await reloaded(cli, 1);
        // Logged at the new level, after anything the call before it logged.
        await logged(cli, /SIGHUP: configuration reloaded/);
        assert.doesNotMatch(cli.log(), accessLine("at-error"));
        assert.equal((await call(cli, SAY_HELLO, { "x-request-id": "at-info" })).grpcStatus, Code.OK);
        await logged(cli, accessLine("at-info"));

        // The upstream is defined as before, so the reload kept it: its own warnings now show too.
        await backend.close();
        assert.equal((await call(cli, SAY_HELLO)).grpcStatus, Code.UNAVAILABLE);
        await logged(cli, /"upstream":"greeter".*upstream address 127\.0\.0\.1:\d+ ejected/);
      } finally {
        cli.child.kill("SIGKILL");
        await cli.exited;
      }
    } finally {
      await backend.close();
    }
  });
});

describe("a reload that moves a route to another upstream", () => {
  test("the old upstream's session stays while its stream runs, and closes once the stream ends", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bridge-retire-"));
    const file = join(dir, "bridge.yaml");
    const observed = new ObservationLog();
    // Started here rather than through startBackend, to count its HTTP/2 sessions from its own side.
    const old = await startConnectNodeBackend(observed);
    const next = await startBackend("connect-node");
    const openSessions = () => old.sessions.filter((s) => !s.closed && !s.destroyed).length;
    try {
      await writeFile(file, configText(`http://127.0.0.1:${old.port}`, ["helloworld.*"]));
      const cli = await startCli(["--config", file]);
      try {
        let firstMessage: () => void = () => {};
        const started = new Promise<void>((resolve) => {
          firstMessage = resolve;
        });
        const ended = (o: { event: string; metadata: Record<string, string> }) =>
          o.event !== "started" && o.metadata["x-request-id"] === "long-stream";
        // Long enough (10 s) to outlast the reload on a loaded machine; checked below, not assumed.
        const stream = grpcWebCall(cli.url, STREAM, {
          message: helloRequest("long"),
          headers: { "x-request-id": "long-stream", "x-stream-count": "40", "x-stream-interval-ms": "250" },
          onMessage: () => firstMessage(),
        });
        await started;
        assert.equal(openSessions(), 1);
        await writeFile(file, configText(next.url, ["helloworld.*"]));
        cli.child.kill("SIGHUP");
        await reloaded(cli, 1);
        assert.equal((await call(cli, SAY_HELLO, { "x-request-id": "moved" })).grpcStatus, Code.OK);
        await next.waitFor((o) => o.metadata["x-request-id"] === "moved");
        assert.equal(observed.observations.some(ended), false, "the stream is still running");
        assert.equal(openSessions(), 1, "the old upstream's session stays while its stream runs");

        const result = await stream;
        assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
        assert.equal(helloReplies(result.messages).length, 40);
        await waitFor(() => (openSessions() === 0 ? true : undefined), 30_000);
      } finally {
        cli.child.kill("SIGKILL");
        await cli.exited;
      }
    } finally {
      await Promise.all([old.close(), next.close()]);
    }
  });
});

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

describe("--watch-config", () => {
  test("a token removed from the tokens file is refused on the next call, without a signal", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bridge-watch-"));
    const file = join(dir, "bridge.yaml");
    const tokens = join(dir, "tokens");
    const backend = await startBackend("connect-node");
    try {
      await writeFile(tokens, "robot-one\nrobot-two\n");
      await writeFile(file, `upstream: ${backend.url}\nauthTokensFile: ${tokens}\nwatchConfig: true\n`);
      const cli = await startCli(["--config", file]);
      try {
        const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
        assert.equal((await call(cli, SAY_HELLO, bearer("robot-two"))).grpcStatus, Code.OK);
        await writeFile(tokens, "robot-one\n");
        await reloaded(cli, 1);
        assert.equal((await call(cli, SAY_HELLO, bearer("robot-two"))).grpcStatus, Code.UNAUTHENTICATED);
        assert.equal((await call(cli, SAY_HELLO, bearer("robot-one"))).grpcStatus, Code.OK);
        await logged(cli, /config file changed: configuration reloaded/);
      } finally {
        cli.child.kill("SIGKILL");
        await cli.exited;
      }
    } finally {
      await backend.close();
    }
  });
});

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

/** The processes (the primary, workers) that logged a line whose message matches `pattern`. */
function pidsLogging(cli: RunningCli, pattern: RegExp): Set<unknown> {
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
