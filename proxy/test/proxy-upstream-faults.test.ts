// What the proxy makes of upstream replies the real backends never send.
import assert from "node:assert/strict";
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { afterEach, describe, test } from "node:test";
import { freePort } from "../../testing/net.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { listenH2c } from "./support/h2c-server.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { startRawUpstream } from "./support/raw-upstream.js";

const PATH = "/helloworld.Greeter/SayHello";
const {
  NGHTTP2_CANCEL,
  NGHTTP2_ENHANCE_YOUR_CALM,
  NGHTTP2_INTERNAL_ERROR,
  NGHTTP2_NO_ERROR,
  NGHTTP2_REFUSED_STREAM,
} = http2.constants;

function frame(payload: string): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, Buffer.from(payload)]);
}

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

describe("upstream faults", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function through(handler: Handler): Promise<RunningProxy> {
    const upstream = await startRawUpstream(handler);
    cleanups.push(() => upstream.close());
    const proxy = await startProxy(upstream.url);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  const call = (proxy: RunningProxy) => grpcWebCall(proxy.url, PATH, { message: new Uint8Array() });

  test("an HTML 502 from a load balancer becomes UNAVAILABLE with a bounded, readable message", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 502, "content-type": "text/html" });
      stream.end(`<html><body>Bad gateway ${"z".repeat(10_000)}</body></html>`);
    });
    const result = await call(proxy);
    assert.equal(result.status, 200);
    assert.equal(result.grpcStatus, 14);
    assert.match(result.grpcMessage ?? "", /502/);
    assert.match(result.grpcMessage ?? "", /Bad gateway/);
    assert.ok((result.grpcMessage ?? "").length < 2048);
    assert.equal(result.messages.length, 0);
  });

  test("a 404 without grpc-status is UNIMPLEMENTED", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 404 });
      stream.end();
    });
    assert.equal((await call(proxy)).grpcStatus, 12);
  });

  test("a gRPC reply that ends without grpc-status is UNKNOWN, after the messages", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.end(frame("hi"));
    });
    const result = await call(proxy);
    assert.equal(result.messages.length, 1);
    assert.equal(result.trailers?.["grpc-status"], "2");
  });

  test("status codes above 16 and percent-encoded messages pass through unchanged", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () =>
        stream.sendTrailers({ "grpc-status": "100", "grpc-message": "%C5%BC %25 ok" }),
      );
      stream.end(frame("hi"));
    });
    const result = await call(proxy);
    assert.equal(result.trailers?.["grpc-status"], "100");
    assert.equal(result.trailers?.["grpc-message"], "%C5%BC %25 ok");
    assert.equal(result.grpcMessage, "ż % ok");
  });

  for (const [rst, code, name] of [
    [NGHTTP2_CANCEL, 1, "CANCEL → CANCELLED"],
    [NGHTTP2_ENHANCE_YOUR_CALM, 8, "ENHANCE_YOUR_CALM → RESOURCE_EXHAUSTED"],
    [NGHTTP2_INTERNAL_ERROR, 13, "INTERNAL_ERROR → INTERNAL"],
    [NGHTTP2_NO_ERROR, 13, "NO_ERROR without a status → INTERNAL"],
  ] as const) {
    test(`RST_STREAM before any reply: ${name}`, async () => {
      const proxy = await through((stream) => stream.close(rst));
      assert.equal((await call(proxy)).grpcStatus, code);
    });
  }

  test("a reset right after complete trailers does not discard the response", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => {
        stream.sendTrailers({ "grpc-status": "0" });
        // nghttp2 sends RST_STREAM ahead of queued frames: let the trailers go first.
        setImmediate(() => stream.close(NGHTTP2_NO_ERROR));
      });
      stream.end(frame("hi"));
    });
    const result = await call(proxy);
    assert.equal(result.grpcStatus, 0);
    assert.equal(result.messages.length, 1);
  });

  test("a refused stream is retried once", async () => {
    let calls = 0;
    const proxy = await through((stream) => {
      if (++calls === 1) return stream.close(NGHTTP2_REFUSED_STREAM);
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" },
        { endStream: true },
      );
    });
    assert.equal((await call(proxy)).grpcStatus, 0);
    assert.equal(calls, 2);
  });

  // Node's server ends its side before it resets a stream the client has half-closed, so a backend that
  // dies is the realistic way to lose a call after its first bytes.
  test("a backend that dies after a whole message ends the call with UNAVAILABLE in a trailer frame", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(frame("hi"), () => setTimeout(() => stream.session?.destroy(), 20));
    });
    const result = await call(proxy);
    assert.equal(result.messages.length, 1);
    assert.equal(result.trailerFrameCount, 1);
    assert.equal(result.trailers?.["grpc-status"], "14");
  });

  test("a backend that dies inside a message cuts the browser connection instead of corrupting the stream", async () => {
    const proxy = await through((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(frame("hello").subarray(0, 7), () => setTimeout(() => stream.session?.destroy(), 20));
    });
    await assert.rejects(call(proxy));
  });

  test("a dead backend is UNAVAILABLE, and the proxy keeps serving", async () => {
    const port = await freePort();
    const proxy = await startProxy(`http://127.0.0.1:${port}`);
    cleanups.push(() => proxy.close());
    const result = await call(proxy);
    assert.equal(result.grpcStatus, 14);
    assert.match(result.grpcMessage ?? "", /ECONNREFUSED/);
    assert.equal((await call(proxy)).grpcStatus, 14);
  });

  test("after a GOAWAY the next call opens a new session", async () => {
    const upstream = await startRawUpstream((stream) => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" },
        { endStream: true },
      );
      stream.session?.goaway(NGHTTP2_NO_ERROR);
    });
    cleanups.push(() => upstream.close());
    const proxy = await startProxy(upstream.url);
    cleanups.push(() => proxy.close());
    assert.equal((await call(proxy)).grpcStatus, 0);
    assert.equal((await call(proxy)).grpcStatus, 0);
    assert.equal((await call(proxy)).grpcStatus, 0);
  });

  test("more sessions open when the backend's SETTINGS_MAX_CONCURRENT_STREAMS is reached", async () => {
    const server = http2.createServer({ settings: { maxConcurrentStreams: 2 } });
    server.on("stream", (stream) => {
      setTimeout(() => {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" },
          { endStream: true },
        );
      }, 100);
    });
    const upstream = await listenH2c(server);
    cleanups.push(() => upstream.close());
    const proxy = await startProxy(`http://127.0.0.1:${upstream.port}`);
    cleanups.push(() => proxy.close());
    // One call first, so the session exists and its SETTINGS are known when the burst comes.
    assert.equal((await call(proxy)).grpcStatus, 0);
    const results = await Promise.all(Array.from({ length: 6 }, () => call(proxy)));
    assert.deepEqual(
      results.map((r) => r.grpcStatus),
      [0, 0, 0, 0, 0, 0],
    );
    assert.equal(upstream.sessions.length, 3, "6 concurrent streams at 2 per session");
  });
});
