// Every limit, enforced with its gRPC status, and the proxy serving on afterwards.
import assert from "node:assert/strict";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import net from "node:net";
import { after, describe, test } from "node:test";
import { waitFor } from "../../testing/net.js";
import { Code, type ServerOptions } from "../src/index.js";
import { parseGrpcTimeout } from "../src/protocol/timeout.js";
import { frame } from "./support/chunks.js";
import { type GrpcWebCallOptions, grpcWebCall } from "./support/grpc-web-client.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { type RawUpstream, startRawUpstream } from "./support/raw-upstream.js";

const PATH = "/helloworld.Greeter/SayHello";
const message = new Uint8Array();

/** Replies OK with the messages a call asks for by name (the request's payload is ignored). */
type Reply = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

const ok: Reply = (stream) => {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  stream.end(frame(0, "hi"));
};

/** The grpc-timeout a backend got, in ms. */
function forwardedMs(headers: IncomingHttpHeaders | undefined): number {
  const ms = parseGrpcTimeout(headers?.["grpc-timeout"] as string | undefined);
  assert.equal(typeof ms, "number", "a grpc-timeout was forwarded");
  return ms as number;
}

describe("limits", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** A proxy with `options` in front of an upstream that answers each call with `reply` (default: OK). */
  async function setUp(options: Omit<ServerOptions, "upstream">, reply: Reply = ok) {
    const seen: IncomingHttpHeaders[] = [];
    const upstream: RawUpstream = await startRawUpstream((stream, headers) => {
      seen.push(headers);
      stream.resume();
      (headers["x-reply"] === "ok" ? ok : reply)(stream, headers);
    });
    const proxy: RunningProxy = await startProxy(upstream.url, options);
    // Closed in reverse: the upstream first, so that a failed test's stalled calls cannot hold up the proxy's close.
    cleanups.push(
      () => proxy.close(),
      () => upstream.close(),
    );
    const stillServes = async () => {
      const result = await grpcWebCall(proxy.url, PATH, { message, headers: { "x-reply": "ok" } });
      assert.equal(result.grpcStatus, Code.OK, "the proxy still serves");
    };
    return { proxy, seen, stillServes };
  }

  test("header bytes on HTTP/1.1: Node's parser answers 431 with grpc-status RESOURCE_EXHAUSTED", async () => {
    const { proxy, seen, stillServes } = await setUp({ maxHeaderBytes: 2048 });
    const result = await grpcWebCall(proxy.url, PATH, { message, headers: { "x-big": "a".repeat(4096) } });
    assert.equal(result.status, 431);
    assert.equal(result.headers["grpc-status"], String(Code.RESOURCE_EXHAUSTED));
    assert.equal(seen.length, 0);
    await stillServes();
  });

  // The limits a call meets, in both encodings a browser asks for: base64 must change neither the limit nor the answer.
  for (const text of [false, true]) {
    const call = (proxy: RunningProxy, options: Omit<GrpcWebCallOptions, "text"> = {}) =>
      grpcWebCall(proxy.url, PATH, { message, ...options, text });

    describe(text ? "grpc-web-text" : "binary grpc-web", () => {
      test("request message size: a larger message is RESOURCE_EXHAUSTED and never forwarded", async () => {
        const { proxy, seen, stillServes } = await setUp({ maxMessageBytes: 100 });
        const result = await call(proxy, { message: new Uint8Array(101) });
        assert.equal(result.grpcStatus, Code.RESOURCE_EXHAUSTED);
        assert.equal(
          result.grpcMessage,
          "request message of 101 bytes is larger than the limit of 100 bytes",
        );
        assert.equal(seen.length, 0);
        await stillServes();
      });

      test("response message size: messages before the large one arrive, then RESOURCE_EXHAUSTED in the trailers", async () => {
        const { proxy, stillServes } = await setUp({ maxResponseMessageBytes: 100 }, (stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          // Both in one DATA write, so the small one and the large one's header share a chunk.
          stream.write(Buffer.concat([frame(0, "small"), frame(0, Buffer.alloc(101))]));
        });
        const result = await call(proxy);
        assert.deepEqual(
          result.messages.map((m) => m.data.toString()),
          ["small"],
        );
        assert.equal(result.trailerFrameCount, 1);
        assert.equal(result.grpcStatus, Code.RESOURCE_EXHAUSTED);
        assert.equal(
          result.grpcMessage,
          "response message of 101 bytes is larger than the limit of 100 bytes",
        );
        await stillServes();
      });

      test("concurrent calls: one past the limit is RESOURCE_EXHAUSTED; once calls end, new ones go through", async () => {
        const stalled: ServerHttp2Stream[] = [];
        const { proxy, stillServes } = await setUp({ maxConcurrentCalls: 2 }, (stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          stalled.push(stream);
        });
        const running = [call(proxy), call(proxy)];
        await waitFor(() => (stalled.length === 2 ? true : undefined));
        const third = await call(proxy);
        assert.equal(third.grpcStatus, Code.RESOURCE_EXHAUSTED);
        assert.equal(third.grpcMessage, "the proxy is at its limit of 2 concurrent calls; retry later");
        for (const stream of stalled) stream.end();
        for (const done of await Promise.all(running))
          assert.notEqual(done.grpcStatus, Code.RESOURCE_EXHAUSTED);
        await stillServes();
      });

      test("default timeout: a call without grpc-timeout gets one, forwarded and enforced; its own deadline wins", async () => {
        const { proxy, seen, stillServes } = await setUp({ defaultTimeout: "150ms" }, (stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
        });
        const started = performance.now();
        const result = await call(proxy);
        assert.equal(result.grpcStatus, Code.DEADLINE_EXCEEDED);
        assert.equal(result.grpcMessage, "deadline of 150 ms exceeded at the proxy");
        // Timers never fire early: a lower bound holds on any machine, however loaded.
        assert.ok(performance.now() - started >= 150);
        const forwarded = forwardedMs(seen[0]);
        assert.ok(forwarded > 0 && forwarded <= 150, `the default is forwarded: ${forwarded} ms`);
        // A deadline of the call's own, longer than the default, is the one that goes upstream. The backend answers
        // at once, so no clock decides this one.
        const own = await call(proxy, { headers: { "grpc-timeout": "10S", "x-reply": "ok" } });
        assert.equal(own.grpcStatus, Code.OK);
        const ownForwarded = forwardedMs(seen[1]);
        assert.ok(ownForwarded > 150 && ownForwarded <= 10_000, `its own is forwarded: ${ownForwarded} ms`);
        await stillServes();
      });

      test("max timeout: a longer client deadline is clamped to it", async () => {
        const { proxy, seen } = await setUp({ maxTimeout: "500ms" }, (stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
        });
        const result = await call(proxy, { headers: { "grpc-timeout": "10S" } });
        assert.equal(result.grpcStatus, Code.DEADLINE_EXCEEDED);
        assert.equal(result.grpcMessage, "deadline of 500 ms exceeded at the proxy");
        const forwarded = forwardedMs(seen[0]);
        assert.ok(forwarded > 0 && forwarded <= 500, `forwarded ${seen[0]?.["grpc-timeout"]}`);
      });

      test("stream idle timeout: a stream that keeps sending runs on; a silent one ends UNAVAILABLE", async () => {
        const { proxy, stillServes } = await setUp({ streamIdleTimeout: "1s" }, (stream, headers) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.write(frame(0, "first"));
          if (headers["x-mode"] !== "ticking") return; // then silent
          let ticks = 0;
          const timer = setInterval(() => {
            if (stream.destroyed) return clearInterval(timer);
            if (++ticks < 12) return void stream.write(frame(0, "tick"));
            clearInterval(timer);
            stream.end();
          }, 100);
        });
        // 12 × 100 ms: longer than the idle timeout in all, and never quiet for anything near it (a gap of 900 ms
        // more than planned would be needed to end it).
        const ticking = await call(proxy, { headers: { "x-mode": "ticking" } });
        assert.equal(ticking.grpcStatus, Code.OK);
        assert.equal(ticking.messages.length, 12);
        const silent = await call(proxy);
        assert.equal(silent.grpcStatus, Code.UNAVAILABLE);
        assert.equal(silent.grpcMessage, "no bytes either way for 1000 ms: the proxy ended the call");
        assert.equal(silent.messages.length, 1);
        await stillServes();
      });
    });
  }

  /** Writes `text` on a raw connection to the proxy and reads until the proxy closes it. */
  function rawExchange(proxy: RunningProxy, text: string): Promise<{ reply: string; ms: number }> {
    const { port } = new URL(proxy.url);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(text));
      let reply = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        reply += chunk;
      });
      socket.once("error", reject);
      socket.once("close", () => resolve({ reply, ms: performance.now() - started }));
    });
  }

  test("headers timeout (slowloris): headers that never finish get 408 with DEADLINE_EXCEEDED, and the connection closes", async () => {
    const { proxy, stillServes } = await setUp({ headersTimeout: "200ms" });
    const { reply, ms } = await rawExchange(
      proxy,
      `POST ${PATH} HTTP/1.1\r\nhost: proxy.test\r\ncontent-type: application/grpc-web\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.match(reply, new RegExp(`grpc-status: ${Code.DEADLINE_EXCEEDED}\r\n`));
    assert.ok(ms < 3000, `closed after ${ms} ms`);
    await stillServes();
  });

  test("request timeout: a body that trickles in too slowly gets 408, and the call never reaches the backend", async () => {
    const { proxy, seen, stillServes } = await setUp({ requestTimeout: "300ms", headersTimeout: "300ms" });
    const { reply } = await rawExchange(
      proxy,
      `POST ${PATH} HTTP/1.1\r\nhost: proxy.test\r\ncontent-type: application/grpc-web\r\ncontent-length: 50\r\n\r\n\0\0\0`,
    );
    assert.match(reply, /^HTTP\/1\.1 408 /);
    assert.equal(seen.length, 0);
    await stillServes();
  });

  test("bad limit values stop the proxy at start", async () => {
    for (const [options, pattern] of [
      [{ maxResponseMessageBytes: 0 }, /maxResponseMessageBytes/],
      [{ maxConcurrentCalls: 1.5 }, /maxConcurrentCalls/],
      [{ defaultTimeout: "-1s" }, /defaultTimeout/],
      [{ streamIdleTimeout: "NaN" }, /streamIdleTimeout/],
      [{ headersTimeout: "0s" }, /headersTimeout/],
    ] as const) {
      await assert.rejects(startProxy("http://127.0.0.1:1", options), pattern);
    }
  });
});
