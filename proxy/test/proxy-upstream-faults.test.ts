// What the proxy makes of upstream replies the real backends never send.
import assert from "node:assert/strict";
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { afterEach, describe, test } from "node:test";
import { DEAD_PORT, waitFor } from "../../testing/net.js";
import { type GrpcWebResult, grpcWebCall } from "./support/grpc-web-client.js";
import { listenH2c } from "./support/h2c-server.js";
import { scrape, startObservedProxy } from "./support/ops-admin.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { type RawUpstream, startRawUpstream } from "./support/raw-upstream.js";

const PATH = "/helloworld.Greeter/SayHello";
const {
  NGHTTP2_CANCEL,
  NGHTTP2_ENHANCE_YOUR_CALM,
  NGHTTP2_INTERNAL_ERROR,
  NGHTTP2_NO_ERROR,
  NGHTTP2_REFUSED_STREAM,
} = http2.constants;

function frame(payload: string, flags = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, Buffer.from(payload)]);
}

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

/**
 * Resolves once the peer has read everything this session sent before now: HTTP/2 frames are read in order,
 * so the PING's answer comes after the DATA written before it. An event to wait for instead of a guessed delay.
 */
function readByPeer(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.session?.ping((error) => (error ? reject(error) : resolve()));
  });
}

const OK_TRAILERS_ONLY = { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" };

describe("upstream faults", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function upstreamWith(handler: Handler): Promise<RawUpstream> {
    const upstream = await startRawUpstream(handler);
    cleanups.push(() => upstream.close());
    return upstream;
  }

  async function proxyTo(url: string): Promise<RunningProxy> {
    const proxy = await startProxy(url);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  const through = async (handler: Handler) => proxyTo((await upstreamWith(handler)).url);

  // Every reply shape in both encodings a browser asks for: the text mode's base64 must not change an ending.
  for (const text of [false, true]) {
    const call = (proxy: RunningProxy): Promise<GrpcWebResult> =>
      grpcWebCall(proxy.url, PATH, { message: new Uint8Array(), text });

    describe(text ? "grpc-web-text" : "binary grpc-web", () => {
      test("an HTML 502 from a load balancer becomes UNAVAILABLE with a bounded, readable message", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 502, "content-type": "text/html" });
          stream.end(`<html><body>Bad gateway ${"z".repeat(10_000)}</body></html>`);
        });
        const result = await call(proxy);
        assert.equal(result.status, 200);
        assert.equal(result.grpcStatus, 14);
        assert.match(
          result.grpcMessage ?? "",
          /^upstream replied HTTP 502 with content-type text\/html, not gRPC: <html><body>Bad gateway z+\.\.\.$/,
        );
        assert.ok((result.grpcMessage ?? "").length < 2048);
        assert.equal(result.messages.length, 0);
      });

      test("a 404 without grpc-status is UNIMPLEMENTED", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 404 });
          stream.end();
        });
        const result = await call(proxy);
        assert.equal(result.grpcStatus, 12);
        assert.equal(result.grpcMessage, "upstream replied HTTP 404 with no content-type, not gRPC");
      });

      test("a 503 that carries grpc-status keeps that status and message, not the HTTP status's", async () => {
        // A load balancer or a gRPC server's own 503: SPEC-M maps 503 to UNAVAILABLE only without grpc-status.
        const proxy = await through((stream) => {
          stream.respond(
            { ":status": 503, "grpc-status": "8", "grpc-message": "too many calls" },
            { endStream: true },
          );
        });
        const result = await call(proxy);
        assert.equal(result.status, 200);
        assert.equal(result.grpcStatus, 8);
        assert.equal(result.grpcMessage, "too many calls");
        assert.equal(result.trailerFrameCount, 0, "Trailers-Only: the status in the headers");
      });

      test("response headers with grpc-status but no END_STREAM end the call there, and the backend is told", async () => {
        let reset: Promise<number | undefined> | undefined;
        const proxy = await through((stream) => {
          reset = new Promise((resolve) => stream.once("close", () => resolve(stream.rstCode)));
          stream.respond({
            ":status": 200,
            "content-type": "application/grpc",
            "grpc-status": "5",
            "grpc-message": "no such greeting",
          });
          // What a confused backend sends after its status must not reach the browser.
          stream.write(frame("after the status"));
        });
        const result = await call(proxy);
        assert.equal(result.grpcStatus, 5);
        assert.equal(result.grpcMessage, "no such greeting");
        assert.equal(result.messages.length, 0);
        assert.equal(result.trailerFrameCount, 0);
        assert.equal(await reset, NGHTTP2_CANCEL);
      });

      test("a gRPC reply that ends without grpc-status is UNKNOWN, after the messages", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          stream.end(frame("hi"));
        });
        const result = await call(proxy);
        assert.equal(result.messages.length, 1);
        assert.equal(result.trailers?.["grpc-status"], "2");
        assert.equal(result.grpcMessage, "upstream ended the call without a grpc-status");
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
          const result = await call(proxy);
          assert.equal(result.grpcStatus, code);
          assert.equal(result.grpcMessage, `upstream reset the stream (HTTP/2 error code ${rst})`);
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
          stream.respond(OK_TRAILERS_ONLY, { endStream: true });
        });
        assert.equal((await call(proxy)).grpcStatus, 0);
        assert.equal(calls, 2);
      });

      test("a retry that is refused too is UNAVAILABLE, and there is no third try", async () => {
        let calls = 0;
        const proxy = await through((stream) => {
          calls++;
          stream.close(NGHTTP2_REFUSED_STREAM);
        });
        const result = await call(proxy);
        assert.equal(result.grpcStatus, 14);
        assert.equal(
          result.grpcMessage,
          `upstream reset the stream (HTTP/2 error code ${NGHTTP2_REFUSED_STREAM})`,
        );
        assert.equal(calls, 2);
      });

      // Node's server ends its side before it resets a stream the client has half-closed, so a backend that
      // dies is the realistic way to lose a call after its first bytes.
      test("a backend that dies after a whole message ends the call with UNAVAILABLE in a trailer frame", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          stream.write(frame("hi"));
          void readByPeer(stream).then(() => stream.session?.destroy());
        });
        const result = await call(proxy);
        assert.equal(result.messages.length, 1);
        assert.equal(result.trailerFrameCount, 1);
        assert.equal(result.trailers?.["grpc-status"], "14");
        assert.equal(result.grpcMessage, "upstream unavailable: connection lost");
      });

      // The proxy holds back the start of a message in progress, so the browser has only whole messages
      // when the backend goes away, and a trailer frame can follow them.
      const wentAway = (why: string) => `the backend went away in the middle of a message (${why})`;

      test("a backend that dies inside a message: the whole messages, then UNAVAILABLE in a trailer frame", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          stream.write(Buffer.concat([frame("hi"), frame("hello").subarray(0, 7)]));
          void readByPeer(stream).then(() => stream.session?.destroy());
        });
        const result = await call(proxy);
        assert.deepEqual(
          result.messages.map((m) => m.data.toString()),
          ["hi"],
        );
        assert.equal(result.trailerFrameCount, 1);
        assert.equal(result.grpcStatus, 14);
        assert.equal(result.grpcMessage, wentAway("upstream unavailable: connection lost"));
      });

      test("a backend that dies inside a message begun in an earlier DATA frame: the same", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          const long = frame("a message in three DATA frames");
          stream.write(Buffer.concat([frame("hi"), long.subarray(0, 3)]));
          void readByPeer(stream)
            .then(() => stream.write(long.subarray(3, 20)))
            .then(() => readByPeer(stream))
            .then(() => stream.session?.destroy());
        });
        const result = await call(proxy);
        assert.deepEqual(
          result.messages.map((m) => m.data.toString()),
          ["hi"],
        );
        assert.equal(result.grpcStatus, 14);
        assert.equal(result.grpcMessage, wentAway("upstream unavailable: connection lost"));
      });

      test("a bad response frame whose header is split across chunks: the messages before it, then INTERNAL", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          const bad = frame("trailers are not DATA", 0x80);
          stream.write(Buffer.concat([frame("hi"), bad.subarray(0, 2)]));
          void readByPeer(stream).then(() => stream.end(bad.subarray(2)));
        });
        const result = await call(proxy);
        assert.deepEqual(
          result.messages.map((m) => m.data.toString()),
          ["hi"],
        );
        assert.equal(result.grpcStatus, 13);
      });

      test("a bad response frame whose header starts a chunk ends the call with INTERNAL after the messages before it", async () => {
        const proxy = await through((stream) => {
          stream.respond({ ":status": 200, "content-type": "application/grpc" });
          stream.write(frame("hi"));
          void readByPeer(stream).then(() => stream.end(frame("trailers are not DATA", 0x80)));
        });
        const result = await call(proxy);
        assert.deepEqual(
          result.messages.map((m) => m.data.toString()),
          ["hi"],
        );
        assert.equal(result.grpcStatus, 13);
        assert.equal(
          result.grpcMessage,
          "upstream sent a frame with the trailer flag (0x80) inside DATA, which native gRPC does not allow",
        );
      });
    });
  }

  const call = (proxy: RunningProxy) => grpcWebCall(proxy.url, PATH, { message: new Uint8Array() });

  test("a dead backend is UNAVAILABLE, and the proxy keeps serving", async () => {
    const proxy = await proxyTo(`http://127.0.0.1:${DEAD_PORT}`);
    const result = await call(proxy);
    assert.equal(result.grpcStatus, 14);
    assert.equal(result.grpcMessage, "upstream unavailable: ECONNREFUSED");
    assert.equal((await call(proxy)).grpcStatus, 14);
  });

  describe("GOAWAY", () => {
    /**
     * A proxy with its admin listener, and the number of upstream sessions it holds, by /metrics. A GOAWAY does
     * not close the connection, and Node's client, left to itself, only stops using the session and waits for the
     * server to close it: a proxy that does no more holds every session a backend ever said GOAWAY on.
     */
    async function observedProxyTo(url: string) {
      const proxy = await startObservedProxy(url);
      cleanups.push(() => proxy.close());
      const sessionsHeld = async () => {
        let held = 0;
        for (const [key, value] of await scrape(proxy.adminUrl)) {
          if (key.startsWith("grpc_web_bridge_upstream_sessions{")) held += value;
        }
        return held;
      };
      return { proxy, sessionsHeld };
    }

    test("after a GOAWAY the next call opens a new session, and the proxy closes the one that said it", async () => {
      const upstream = await upstreamWith((stream) => {
        stream.respond(OK_TRAILERS_ONLY, { endStream: true });
        stream.session?.goaway(NGHTTP2_NO_ERROR);
      });
      const { proxy, sessionsHeld } = await observedProxyTo(upstream.url);
      for (let i = 0; i < 3; i++) assert.equal((await call(proxy)).grpcStatus, 0);
      assert.equal(upstream.sessions.length, 3, "one session per call: each ended with a GOAWAY");
      await waitFor(async () => ((await sessionsHeld()) === 0 ? true : undefined));
    });

    test("calls in flight at a GOAWAY finish on the old session; a stream past its last id is retried on a new one", async () => {
      const held: ServerHttp2Stream[] = [];
      const upstream: RawUpstream = await upstreamWith((stream) => {
        if (upstream.sessions.length > 1) return void stream.respond(OK_TRAILERS_ONLY, { endStream: true });
        held.push(stream);
        if (held.length === 1) {
          // The first call is under way: a message now, the rest after the GOAWAY.
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.write(frame("before"));
          return;
        }
        // The second call arrived: the backend refuses it by saying GOAWAY with the first call's id as the last
        // it will process, and finishes the first.
        const [first] = held as [ServerHttp2Stream];
        stream.session?.goaway(NGHTTP2_NO_ERROR, first.id);
        void readByPeer(first).then(() => first.end(frame("after")));
      });
      const { proxy, sessionsHeld } = await observedProxyTo(upstream.url);
      const first = call(proxy);
      await waitFor(() => (held.length === 1 ? true : undefined));
      const second = await call(proxy);
      assert.equal(second.grpcStatus, 0, second.grpcMessage);
      const finished = await first;
      assert.equal(finished.grpcStatus, 0, finished.grpcMessage);
      assert.deepEqual(
        finished.messages.map((m) => m.data.toString()),
        ["before", "after"],
      );
      assert.equal(held.length, 2, "the old session saw both calls' streams");
      assert.equal(held[1]?.rstCode, NGHTTP2_REFUSED_STREAM, "the second one past the GOAWAY's last id");
      assert.equal(upstream.sessions.length, 2, "the retry went to a new session");
      // The old session goes once its last call has ended; the new one stays for the next calls.
      await waitFor(async () => ((await sessionsHeld()) === 1 ? true : undefined));
    });
  });

  test("more sessions open when the backend's SETTINGS_MAX_CONCURRENT_STREAMS is reached", async () => {
    const server = http2.createServer({ settings: { maxConcurrentStreams: 2 } });
    const waiting: ServerHttp2Stream[] = [];
    server.on("stream", (stream) => {
      // Every stream waits until 6 are open at once, so the proxy must hold 6 concurrently to finish.
      waiting.push(stream);
      if (waiting.length < 6) return;
      for (const s of waiting.splice(0)) s.respond(OK_TRAILERS_ONLY, { endStream: true });
    });
    const upstream = await listenH2c(server);
    cleanups.push(() => upstream.close());
    const proxy = await proxyTo(`http://127.0.0.1:${upstream.port}`);
    // One call first, so the session exists and its SETTINGS are known when the burst comes.
    const warmUp = call(proxy);
    await waitFor(() => (waiting.length === 1 ? true : undefined));
    waiting.shift()?.respond(OK_TRAILERS_ONLY, { endStream: true });
    assert.equal((await warmUp).grpcStatus, 0);
    // A deadline, so that a proxy that queues the calls instead fails in seconds rather than at the test timeout.
    const burst = () =>
      grpcWebCall(proxy.url, PATH, { message: new Uint8Array(), headers: { "grpc-timeout": "10S" } });
    const results = await Promise.all(Array.from({ length: 6 }, burst));
    assert.deepEqual(
      results.map((r) => r.grpcStatus),
      [0, 0, 0, 0, 0, 0],
    );
    assert.equal(upstream.sessions.length, 3, "6 concurrent streams at 2 per session");
  });
});
