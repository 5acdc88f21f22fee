// Backends that die, come back, stall, or are no gRPC server at all: the browser always gets a gRPC status,
// promptly, and the proxy goes on without a restart.
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { afterEach, describe, test } from "node:test";
import { startBackendProcess } from "./support/backend-process.js";
import { type BackendKind, backendKinds, startBackend } from "./support/backends.js";
import { frame } from "./support/chunks.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { startRawUpstream } from "./support/raw-upstream.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
/** What "promptly" means here: far below any timeout, far above scheduling noise. */
const PROMPTLY_MS = 1000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function proxyTo(url: string, options: Parameters<typeof startProxy>[1] = {}): Promise<RunningProxy> {
  const proxy = await startProxy(url, options);
  cleanups.push(() => proxy.close());
  return proxy;
}

const hello = (proxy: RunningProxy, headers: Record<string, string> = {}, text = false) =>
  grpcWebCall(proxy.url, SAY_HELLO, { message: helloRequest("Ada"), headers, text });

/** Milliseconds `promise` takes to settle. */
async function timed<T>(promise: Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await promise;
  return [value, performance.now() - start];
}

describe("a backend restarted", () => {
  for (const kind of ["connect-node", "grpcio"] satisfies BackendKind[]) {
    test(`${kind}: calls while it is down are UNAVAILABLE at once; the first call after it is back succeeds`, async () => {
      const first = await startBackend(kind);
      const proxy = await proxyTo(first.url);
      assert.equal((await hello(proxy)).grpcStatus, 0);
      await first.close();
      for (let i = 0; i < 3; i++) {
        const [down, ms] = await timed(hello(proxy));
        assert.equal(down.grpcStatus, 14, down.grpcMessage);
        assert.ok(ms < PROMPTLY_MS, `UNAVAILABLE took ${Math.round(ms)} ms`);
        // Browsers learn what went wrong, not the backend's address.
        assert.doesNotMatch(down.grpcMessage ?? "", new RegExp(`127\\.0\\.0\\.1|${first.port}`));
      }
      const again = await startBackend(kind, first.port);
      cleanups.push(() => again.close());
      const back = await hello(proxy);
      assert.equal(back.grpcStatus, 0, back.grpcMessage);
      assert.deepEqual(helloReplies(back.messages), ["Hello, Ada!"]);
    });
  }
});

describe("a backend process that hangs (SIGSTOP: its TCP stays up, nothing answers)", () => {
  test("calls end at their deadline, and the proxy's shutdown still ends at once", {
    timeout: 10_000,
  }, async () => {
    const backend = await startBackendProcess("connect-node");
    const proxy = await proxyTo(backend.url);
    // Cleaned up before the proxy, which could not close while the backend is stopped if the test fails.
    cleanups.push(() => backend.kill());
    assert.equal((await hello(proxy)).grpcStatus, 0);
    process.kill(backend.pid, "SIGSTOP");
    const [stuck, ms] = await timed(hello(proxy, { "grpc-timeout": "200m" }));
    assert.equal(stuck.grpcStatus, 4, stuck.grpcMessage);
    assert.ok(ms < 200 + PROMPTLY_MS);
    // A graceful close waits for the peer to close its side too, which a stopped process never does.
    const [, closeMs] = await timed(proxy.close());
    assert.ok(closeMs < PROMPTLY_MS, `closing took ${Math.round(closeMs)} ms`);
  });
});

// The endings a browser sees, in both encodings it may ask for: text mode's base64 must not change one.
for (const text of [false, true]) {
  const mode = text ? "grpc-web-text" : "binary grpc-web";
  describe(`${mode}: a backend killed mid-stream`, () => {
    // grpcio's close() kills its process (no SIGTERM handler): the kernel closes the sockets, as in a crash.
    // The in-process backends drop their connections, which the proxy sees the same way.
    for (const kind of backendKinds) {
      test(`${kind}: the browser gets the messages so far, then UNAVAILABLE in a trailer frame, promptly`, async () => {
        const backend = await startBackend(kind);
        cleanups.push(() => backend.close());
        const proxy = await proxyTo(backend.url);
        let firstMessage: () => void = () => {};
        const arrived = new Promise<void>((resolve) => (firstMessage = resolve));
        const call = grpcWebCall(proxy.url, STREAM, {
          text,
          message: helloRequest("Ada"),
          headers: { "x-stream-count": "1000", "x-stream-interval-ms": "20" },
          onMessage: () => firstMessage(),
        });
        await arrived;
        const [result, ms] = await timed(backend.close().then(() => call));
        assert.ok(result.messages.length >= 1, "the messages sent before the kill arrive");
        assert.equal(result.trailerFrameCount, 1);
        assert.equal(result.trailers?.["grpc-status"], "14", result.grpcMessage);
        assert.ok(ms < PROMPTLY_MS, `the status came ${Math.round(ms)} ms after the kill`);
      });
    }
  });

  describe(`${mode}: a backend that stalls for ever`, () => {
    async function stalled(onStream: (stream: http2.ServerHttp2Stream) => void = () => {}) {
      const cancelled: number[] = [];
      const upstream = await startRawUpstream((stream) => {
        stream.once("close", () => cancelled.push(stream.rstCode));
        onStream(stream);
      });
      cleanups.push(() => upstream.close());
      return { url: upstream.url, cancelled };
    }

    test("the client's deadline fires at the proxy, and the backend is told with RST_STREAM(CANCEL)", async () => {
      const upstream = await stalled();
      const proxy = await proxyTo(upstream.url);
      const [result, ms] = await timed(hello(proxy, { "grpc-timeout": "200m" }, text));
      assert.equal(result.grpcStatus, 4, result.grpcMessage);
      assert.ok(ms >= 195 && ms < 200 + PROMPTLY_MS, `ended after ${Math.round(ms)} ms`);
      await waitForValue(() => upstream.cancelled[0]);
      assert.deepEqual(upstream.cancelled, [http2.constants.NGHTTP2_CANCEL]);
    });

    test("a call without a deadline gets the proxy's --max-timeout", async () => {
      const upstream = await stalled();
      const proxy = await proxyTo(upstream.url, { maxTimeout: "200ms" });
      const [result, ms] = await timed(hello(proxy, {}, text));
      assert.equal(result.grpcStatus, 4, result.grpcMessage);
      assert.ok(ms >= 195 && ms < 200 + PROMPTLY_MS, `ended after ${Math.round(ms)} ms`);
    });

    test("a call without any deadline ends at the stream idle timeout, and the backend is told", async () => {
      const upstream = await stalled();
      const proxy = await proxyTo(upstream.url, { streamIdleTimeout: "200ms" });
      const [result, ms] = await timed(hello(proxy, {}, text));
      assert.equal(result.grpcStatus, 14, result.grpcMessage);
      assert.match(result.grpcMessage ?? "", /no bytes either way for 200 ms/);
      assert.ok(ms >= 195 && ms < 200 + PROMPTLY_MS, `ended after ${Math.round(ms)} ms`);
      await waitForValue(() => upstream.cancelled[0]);
      assert.deepEqual(upstream.cancelled, [http2.constants.NGHTTP2_CANCEL]);
    });

    test("a stream that goes quiet after messages ends at the idle timeout, with the messages first", async () => {
      const upstream = await stalled((stream) => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        // Lively for a while (each message restarts the idle timer), then silent.
        let sent = 0;
        const timer = setInterval(() => {
          stream.write(frame(0, `tick ${++sent}`));
          if (sent === 5) clearInterval(timer);
        }, 60);
        stream.once("close", () => clearInterval(timer));
      });
      const proxy = await proxyTo(upstream.url, { streamIdleTimeout: "200ms" });
      const [result, ms] = await timed(
        grpcWebCall(proxy.url, STREAM, {
          text,
          message: helloRequest("Ada"),
        }),
      );
      assert.equal(result.messages.length, 5, "the idle timer restarts with every message");
      assert.equal(result.trailers?.["grpc-status"], "14");
      assert.ok(ms >= 5 * 60 + 195, `ended after ${Math.round(ms)} ms`);
    });

    test("a stream that stalls after its first message ends with DEADLINE_EXCEEDED in a trailer frame", async () => {
      const upstream = await stalled((stream) => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        stream.write(frame(0, "first"));
      });
      const proxy = await proxyTo(upstream.url);
      const result = await grpcWebCall(proxy.url, STREAM, {
        text,
        message: helloRequest("Ada"),
        headers: { "grpc-timeout": "300m" },
      });
      assert.deepEqual(
        result.messages.map((m) => m.data.toString()),
        ["first"],
      );
      assert.equal(result.trailerFrameCount, 1);
      assert.equal(result.trailers?.["grpc-status"], "4");
    });

    // Both hung for ever before their fixes: a timeout makes that a failure.
    test("a peer that accepts TCP but never speaks HTTP/2 fails calls after the connect timeout, and the proxy still closes at once", {
      timeout: 10_000,
    }, async () => {
      const sockets: net.Socket[] = [];
      const hole = net.createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
      cleanups.push(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => hole.close(resolve));
      });
      // No deadline: before the fix the call waited for ever, since the TCP connect counted as connected.
      const proxy = await proxyTo(`http://127.0.0.1:${(hole.address() as AddressInfo).port}`, {
        connectTimeout: "300ms",
      });
      const [result, ms] = await timed(hello(proxy, {}, text));
      assert.equal(result.grpcStatus, 14, result.grpcMessage);
      assert.match(result.grpcMessage ?? "", /no HTTP\/2 connection within 300 ms/);
      assert.ok(ms < 300 + PROMPTLY_MS, `ended after ${Math.round(ms)} ms`);
      // Closing right after the session was destroyed hung for ever: close() on a destroyed session never calls back.
      const [, closeMs] = await timed(proxy.close());
      assert.ok(closeMs < PROMPTLY_MS, `closing took ${Math.round(closeMs)} ms`);
    });
  });

  describe(`${mode}: a backend that is no gRPC server`, () => {
    test("an HTTP/1.1 server at the upstream address is UNAVAILABLE, and the next call too", async () => {
      const server = http.createServer((_req, res) => res.end("hello"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      cleanups.push(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });
      const proxy = await proxyTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      for (let i = 0; i < 2; i++) {
        const [result, ms] = await timed(hello(proxy, {}, text));
        assert.equal(result.grpcStatus, 14, result.grpcMessage);
        assert.ok(ms < PROMPTLY_MS);
      }
    });

    test("response headers and trailers with bytes HTTP/1.1 forbids are dropped, not a crash", async () => {
      const upstream = await startRawUpstream((stream) => {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "x-ctl": "a\u0001b", "x-ok": "fine" },
          { waitForTrailers: true },
        );
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-del": "a\u007fb" }));
        stream.end(frame(0, "hi"));
      });
      cleanups.push(() => upstream.close());
      const proxy = await proxyTo(upstream.url);
      const result = await hello(proxy, {}, text);
      assert.equal(result.grpcStatus, 0, result.grpcMessage);
      assert.equal(result.headers["x-ok"], "fine");
      assert.equal(result.headers["x-ctl"], undefined);
      assert.equal(result.trailers?.["x-del"], undefined);
      assert.equal((await hello(proxy, {}, text)).grpcStatus, 0);
    });
  });

  async function waitForValue<T>(probe: () => T | undefined, timeoutMs = 2000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (performance.now() > deadline) throw new Error(`nothing within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
