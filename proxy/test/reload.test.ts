// Reloading the configuration of a running CLI, over real sockets: SIGHUP (and, with --watch-config, a changed file)
// brings new routes, upstreams and tokens to new calls, while a call in flight finishes where it started; a broken
// file changes nothing and is logged with its line and column; /metrics counts reloads, /readyz shows the version.
// With --workers, and a SIGHUP while the CLI starts: reload-workers.test.ts.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
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
import {
  type ConfigPlace,
  call,
  configText,
  logged,
  reloaded,
  reloads,
  SAY_HELLO,
  version,
  withConfiguredCli,
} from "./support/reload-cli.js";
import { openWebSocketCall } from "./support/websocket-call.js";

const STREAM = "/helloworld.Greeter/SayHelloStreamReply";

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

describe("--watch-config", () => {
  test("a token removed from the tokens file is refused on the next call, without a signal", async () => {
    const tokensIn = (dir: string) => join(dir, "tokens");
    const config = async ({ dir, backendUrl }: ConfigPlace) => {
      await writeFile(tokensIn(dir), "robot-one\nrobot-two\n");
      return `upstream: ${backendUrl}\nauthTokensFile: ${tokensIn(dir)}\nwatchConfig: true\n`;
    };
    await withConfiguredCli(config, async (cli, { dir }) => {
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      assert.equal((await call(cli, SAY_HELLO, bearer("robot-two"))).grpcStatus, Code.OK);
      await writeFile(tokensIn(dir), "robot-one\n");
      await reloaded(cli, 1);
      assert.equal((await call(cli, SAY_HELLO, bearer("robot-two"))).grpcStatus, Code.UNAUTHENTICATED);
      assert.equal((await call(cli, SAY_HELLO, bearer("robot-one"))).grpcStatus, Code.OK);
      await logged(cli, /config file changed: configuration reloaded/);
    });
  });
});

describe("a reload that changes maxMessageBytes", () => {
  test("WebSocket calls take the new limit: a message only the new one allows goes through", async () => {
    const config = (maxMessageBytes: number) => (place: ConfigPlace) =>
      `upstream: ${place.backendUrl}\nmaxMessageBytes: ${maxMessageBytes}\n`;
    await withConfiguredCli(config(1000), async (cli, place) => {
      const sayHello = async () => {
        const ws = await openWebSocketCall(`${cli.url}${SAY_HELLO}`);
        ws.sendMetadata({ "content-type": "application/grpc-web+proto", "x-grpc-web": "1" });
        ws.sendMessage(helloRequest("x".repeat(4000)));
        ws.finish();
        return ws.result;
      };
      // ws's own cap, 1 + 5 + maxMessageBytes, closes the socket before any of the message is buffered.
      assert.equal((await sayHello()).closeCode, 1009);
      await writeFile(place.file, config(100_000)(place));
      cli.child.kill("SIGHUP");
      await reloaded(cli, 1);
      const raised = await sayHello();
      assert.equal(raised.trailers?.["grpc-status"], String(Code.OK));
      assert.equal(raised.messages.length, 1);
    });
  });
});
