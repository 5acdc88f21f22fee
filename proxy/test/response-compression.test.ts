// HTTP compression of gRPC-Web responses (--response-compression): Content-Encoding by the browser's
// Accept-Encoding, unary replies compressed whole, server streams flushed message by message, text mode too,
// Trailers-Only answers untouched. Real grpc-js backends over sockets; the client undoes the coding as a browser.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import type { Transform } from "node:stream";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Server, type ServerWritableStream } from "@grpc/grpc-js";
import { type HelloReply, HelloReplySchema, type HelloRequest } from "@grpc-web-bridge/client-web/greeter";
import { MIN_COMPRESSED_REPLY_BYTES } from "../src/call/response-compression.js";
import { Code } from "../src/protocol/status.js";
import { type Backend, startBackend } from "./support/backends.js";
import { createTestCa } from "./support/certificates.js";
import { frame } from "./support/chunks.js";
import { decoderFor, encodedWebCall } from "./support/encoded-web-call.js";
import { greeterDefinition } from "./support/greeter-definition.js";
import { listenOnLoopback } from "./support/grpc-js-listen.js";
import { WebBodyParser } from "./support/grpc-web-body.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
/** What Chromium sends over HTTPS. */
const BROWSER = "gzip, deflate, br, zstd";
const BIG = 20_000;

function replyOf(bytes: number) {
  return { "x-reply-bytes": String(bytes) };
}

describe("response compression with a grpc-js backend", () => {
  let backend: Backend;
  const proxies: Record<"off" | "gzip" | "br", RunningProxy> = {} as never;
  before(async () => {
    backend = await startBackend("grpc-js");
    for (const setting of ["off", "gzip", "br"] as const)
      proxies[setting] = await startProxy(backend.url, { responseCompression: setting });
  });
  after(async () => {
    for (const proxy of Object.values(proxies)) await proxy.close();
    await backend?.close();
  });

  for (const text of [false, true]) {
    const mode = text ? "text" : "binary";
    for (const [setting, acceptEncoding, coding] of [
      ["gzip", BROWSER, "gzip"],
      ["br", BROWSER, "br"],
      ["br", "gzip, deflate", "gzip"],
    ] as const) {
      test(`${mode}: --response-compression ${setting}, Accept-Encoding "${acceptEncoding}": ${coding}`, async () => {
        const result = await encodedWebCall(proxies[setting].url, SAY_HELLO, {
          message: helloRequest("Big"),
          text,
          acceptEncoding,
          headers: replyOf(BIG),
        });
        assert.equal(result.headers["content-encoding"], coding);
        assert.equal(result.headers.vary, "Accept-Encoding");
        assert.equal(result.trailers?.["grpc-status"], "0");
        assert.deepEqual(helloReplies(result.messages), ["x".repeat(BIG)]);
        assert.ok(
          result.wireBytes * 20 < result.decodedBytes,
          `${result.wireBytes} bytes on the wire for ${result.decodedBytes}`,
        );
      });
    }
  }

  test("a 1 MiB unary reply, compressed whole", async () => {
    const bytes = 1024 * 1024;
    const result = await encodedWebCall(proxies.gzip.url, SAY_HELLO, {
      message: helloRequest("MiB"),
      acceptEncoding: "gzip",
      headers: replyOf(bytes),
    });
    assert.equal(result.headers["content-encoding"], "gzip");
    assert.deepEqual(helloReplies(result.messages), ["x".repeat(bytes)]);
    assert.ok(result.wireBytes < bytes / 100, `${result.wireBytes} bytes on the wire`);
  });

  test("a server stream: every message decoded, in order", async () => {
    const result = await encodedWebCall(proxies.br.url, STREAM, {
      message: helloRequest("S"),
      acceptEncoding: BROWSER,
      headers: { ...replyOf(3000), "x-stream-count": "5" },
    });
    assert.equal(result.headers["content-encoding"], "br");
    assert.deepEqual(helloReplies(result.messages), Array(5).fill("x".repeat(3000)));
    assert.equal(result.trailers?.["grpc-status"], "0");
  });

  for (const [why, acceptEncoding] of [
    ["no Accept-Encoding", undefined],
    ["only identity", "identity"],
    ["gzip and br refused with q=0", "gzip;q=0, br;q=0, deflate"],
  ] as const) {
    test(`${why}: the reply goes out uncompressed, with Vary`, async () => {
      const result = await encodedWebCall(proxies.br.url, SAY_HELLO, {
        message: helloRequest("Plain"),
        ...(acceptEncoding !== undefined && { acceptEncoding }),
        headers: replyOf(BIG),
      });
      assert.equal(result.headers["content-encoding"], undefined);
      assert.equal(result.headers.vary, "Accept-Encoding");
      assert.equal(result.wireBytes, result.decodedBytes);
      assert.deepEqual(helloReplies(result.messages), ["x".repeat(BIG)]);
    });
  }

  test(`a reply whose first message is under ${MIN_COMPRESSED_REPLY_BYTES} bytes goes out uncompressed`, async () => {
    const small = MIN_COMPRESSED_REPLY_BYTES - 5 - 4; // frame header, HelloReply's tag and length
    const result = await encodedWebCall(proxies.gzip.url, SAY_HELLO, {
      message: helloRequest("Small"),
      acceptEncoding: BROWSER,
      headers: replyOf(small),
    });
    assert.equal(result.headers["content-encoding"], undefined);
    assert.equal(result.headers.vary, "Accept-Encoding");
    assert.deepEqual(helloReplies(result.messages), ["x".repeat(small)]);
    const atMinimum = await encodedWebCall(proxies.gzip.url, SAY_HELLO, {
      message: helloRequest("Small"),
      acceptEncoding: BROWSER,
      headers: replyOf(small + 1),
    });
    assert.equal(atMinimum.headers["content-encoding"], "gzip");
  });

  test("a Trailers-Only answer is untouched: no Content-Encoding, no Vary", async () => {
    const result = await grpcWebCall(proxies.gzip.url, SAY_HELLO, {
      message: helloRequest("Fail"),
      headers: { "accept-encoding": BROWSER, "x-fail-code": String(Code.NOT_FOUND) },
    });
    assert.equal(result.grpcStatus, Code.NOT_FOUND);
    assert.equal(result.headers["content-encoding"], undefined);
    assert.equal(result.headers.vary, undefined);
    assert.equal(result.rawBody.length, 0);
  });

  test("an error after messages ends the compressed stream with its trailer frame", async () => {
    const result = await encodedWebCall(proxies.gzip.url, STREAM, {
      message: helloRequest("Late"),
      acceptEncoding: "gzip",
      headers: { ...replyOf(3000), "x-fail-code": String(Code.ABORTED), "x-fail-after": "2" },
    });
    assert.equal(result.headers["content-encoding"], "gzip");
    assert.equal(result.messages.length, 2);
    assert.equal(result.trailers?.["grpc-status"], String(Code.ABORTED));
  });

  test("off: never compressed, no Vary", async () => {
    const result = await encodedWebCall(proxies.off.url, SAY_HELLO, {
      message: helloRequest("Off"),
      acceptEncoding: BROWSER,
      headers: replyOf(BIG),
    });
    assert.equal(result.headers["content-encoding"], undefined);
    assert.equal(result.headers.vary, undefined);
    assert.deepEqual(helloReplies(result.messages), ["x".repeat(BIG)]);
  });
});

describe("response compression on an HTTP/2 browser connection", () => {
  test("a compressed server stream over h2 (TLS, ALPN)", async (t) => {
    const ca = createTestCa();
    const backend = await startBackend("grpc-js");
    const proxy = await startProxy(backend.url, {
      tls: ca.issue("proxy", "proxy", ["IP:127.0.0.1"]),
      responseCompression: "br",
    });
    const session = http2.connect(proxy.url.replace("http:", "https:"), { ca: readFileSync(ca.certFile) });
    t.after(async () => {
      session.destroy();
      await proxy.close();
      await backend.close();
      ca.remove();
    });
    const stream = session.request({
      ":method": "POST",
      ":path": STREAM,
      "content-type": "application/grpc-web+proto",
      "accept-encoding": BROWSER,
      "x-reply-bytes": "3000",
      "x-stream-count": "4",
    });
    stream.end(frame(0, Buffer.from(helloRequest("H2"))));
    const [headers] = (await once(stream, "response")) as [http2.IncomingHttpHeaders];
    assert.equal(headers["content-encoding"], "br");
    assert.equal(headers.vary, "Accept-Encoding");
    const decoder = decoderFor("br") as Transform;
    const frames = new WebBodyParser();
    decoder.on("data", (chunk: Buffer) => frames.push(chunk, 0));
    stream.pipe(decoder);
    await once(decoder, "end");
    assert.equal(frames.end(), undefined);
    assert.deepEqual(helloReplies(frames.messages), Array(4).fill("x".repeat(3000)));
    assert.equal(frames.trailers?.["grpc-status"], "0");
  });
});

describe("a compressed server stream is flushed after every message", () => {
  /** The streams the backend holds open, for the test to write to. */
  const streams: Array<ServerWritableStream<HelloRequest, HelloReply>> = [];
  const opened: Array<() => void> = [];
  let server: Server;
  let proxies: Record<"gzip" | "br", RunningProxy>;
  before(async () => {
    server = new Server();
    server.addService(greeterDefinition, {
      SayHelloStreamReply(call: ServerWritableStream<HelloRequest, HelloReply>) {
        streams.push(call);
        opened.shift()?.();
      },
    });
    const { port } = await listenOnLoopback(server);
    proxies = {
      gzip: await startProxy(`http://127.0.0.1:${port}`, { responseCompression: "gzip" }),
      br: await startProxy(`http://127.0.0.1:${port}`, { responseCompression: "br" }),
    };
  });
  after(async () => {
    for (const proxy of Object.values(proxies ?? {})) await proxy.close();
    server?.forceShutdown();
  });

  for (const coding of ["gzip", "br"] as const) {
    for (const text of [false, true]) {
      test(`${coding}, ${text ? "text" : "binary"}: each message arrives before the backend sends the next`, {
        timeout: 10_000,
      }, async () => {
        const stream = new Promise<void>((resolve) => opened.push(resolve));
        const arrivals: Array<() => void> = [];
        const arrived = () => new Promise<void>((resolve) => arrivals.push(resolve));
        const first = arrived();
        const call = encodedWebCall(proxies[coding].url, STREAM, {
          message: helloRequest("Tick"),
          text,
          acceptEncoding: BROWSER,
          onMessage: () => arrivals.shift()?.(),
        });
        await stream;
        const backendCall = streams.at(-1) as ServerWritableStream<HelloRequest, HelloReply>;
        const reply = (i: number) => create(HelloReplySchema, { message: `${i}`.repeat(2000) });
        backendCall.write(reply(1));
        // Nothing more is sent until the browser decoded the first message: without a flush per message
        // it would sit in the compressor, and this would wait for ever.
        await first;
        const second = arrived();
        backendCall.write(reply(2));
        await second;
        backendCall.end();
        const result = await call;
        assert.equal(result.headers["content-encoding"], coding);
        assert.deepEqual(helloReplies(result.messages), ["1".repeat(2000), "2".repeat(2000)]);
        assert.equal(result.trailers?.["grpc-status"], "0");
      });
    }
  }
});

test("responseCompression takes off, gzip or br, and refuses anything else at registration", async () => {
  await assert.rejects(
    startProxy("http://127.0.0.1:1", { responseCompression: "zstd" as "gzip" }),
    /responseCompression: expected off or gzip or br, got "zstd"/,
  );
});
