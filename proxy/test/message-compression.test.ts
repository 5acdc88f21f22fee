// gRPC message compression (grpc-encoding, the frame's compressed flag) through the proxy, which stays opaque:
// a gzip-flagged request reaches the backend as sent, a compressed reply comes back as the backend wrote it, and
// the backend, not the proxy, refuses what it cannot decompress. Real grpcio and grpc-js backends over sockets.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { HelloReplySchema } from "@grpc-web-bridge/client-web/greeter";
import { Code } from "../src/protocol/status.js";
import { frame } from "./support/chunks.js";
import { startConnectNodeBackend } from "./support/connect-node-backend.js";
import { startGrpcJsBackend } from "./support/grpc-js-backend.js";
import { type GrpcWebResult, grpcWebCall } from "./support/grpc-web-client.js";
import { type GrpcioCompression, startGrpcioBackend } from "./support/grpcio-backend.js";
import type { Listener } from "./support/h2c-server.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { ObservationLog } from "./support/observations.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
const FLAG_COMPRESSED = 0x01;
const GZIP_REQUEST = { "grpc-encoding": "gzip", "grpc-accept-encoding": "gzip" };
/** grpcio sends a message uncompressed when gzip would not make it smaller: replies of 2,000 'x' it compresses. */
const REPLY_BYTES = 2000;
const LONG_REPLY = { ...GZIP_REQUEST, "x-reply-bytes": String(REPLY_BYTES) };

/** A HelloRequest as a gzip-compressed frame, as a client sends it with grpc-encoding: gzip. */
function gzippedHello(name: string): Buffer {
  return frame(FLAG_COMPRESSED, gzipSync(helloRequest(name)));
}

/** 8 MiB of name in about 8 KiB of gzip: past every backend's 4 MiB receive limit once inflated, far under the proxy's before. */
function gzipBomb(): Buffer {
  return frame(FLAG_COMPRESSED, gzipSync(helloRequest("\0".repeat(8 * 1024 * 1024))));
}

/** Each message frame of a binary gRPC-Web body, with its flags, as the proxy wrote it. */
function messageFrames(body: Buffer): Array<{ flags: number; payload: Buffer }> {
  const frames: Array<{ flags: number; payload: Buffer }> = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const flags = body[at] as number;
    const length = body.readUInt32BE(at + 1);
    if (!(flags & 0x80)) frames.push({ flags, payload: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return frames;
}

/** The replies' texts, each message decompressed when its flag says so. */
function decodedReplies(result: GrpcWebResult): string[] {
  return messageFrames(result.rawBody).map(
    ({ flags, payload }) =>
      fromBinary(HelloReplySchema, flags & FLAG_COMPRESSED ? gunzipSync(payload) : payload).message,
  );
}

/** A backend from `start` behind a test proxy, for the enclosing describe; `proxy` is set once it runs. */
function behindProxy(start: (log: ObservationLog) => Promise<Listener>): { readonly proxy: RunningProxy } {
  const served = {} as { backend: Listener; proxy: RunningProxy };
  before(async () => {
    served.backend = await start(new ObservationLog());
    served.proxy = await startProxy(`http://127.0.0.1:${served.backend.port}`);
  });
  after(async () => {
    await served.proxy?.close();
    await served.backend?.close();
  });
  return served;
}

function grpcio(compression: GrpcioCompression): (log: ObservationLog) => Promise<Listener> {
  return (log) => startGrpcioBackend(log, 0, compression);
}

/** What every backend that takes gzip requests must do with a bomb and with a corrupt message. */
function gzipRequestLimits(served: { readonly proxy: RunningProxy }, corruptMessage?: RegExp): void {
  test("a compression bomb passes the proxy's limit compressed, and the backend's RESOURCE_EXHAUSTED is passed on", async () => {
    const bomb = gzipBomb();
    assert.ok(bomb.length < 64 * 1024, `${bomb.length} bytes`);
    const result = await grpcWebCall(served.proxy.url, SAY_HELLO, { body: bomb, headers: GZIP_REQUEST });
    assert.equal(result.grpcStatus, Code.RESOURCE_EXHAUSTED, result.grpcMessage);
  });

  test("a corrupt gzip message: the backend's INTERNAL is passed on, the call ends, and the next works", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const corrupt = gzippedHello("Broken");
      corrupt.fill(0x5a, 5 + 10); // past the gzip header: the deflate data and the CRC
      const bad = await grpcWebCall(served.proxy.url, SAY_HELLO, {
        body: corrupt,
        headers: GZIP_REQUEST,
        agent,
      });
      assert.equal(bad.grpcStatus, Code.INTERNAL, bad.grpcMessage);
      assert.equal(bad.messages.length, 0);
      if (corruptMessage) assert.match(bad.grpcMessage ?? "", corruptMessage);
      const next = await grpcWebCall(served.proxy.url, SAY_HELLO, {
        body: gzippedHello("Again"),
        headers: GZIP_REQUEST,
        agent,
      });
      assert.equal(next.grpcStatus, Code.OK, next.grpcMessage);
      assert.deepEqual(decodedReplies(next), ["Hello, Again!"]);
    } finally {
      agent.destroy();
    }
  });
}

describe("compressed messages through the proxy to grpcio", () => {
  const served = behindProxy(grpcio({ reply: "gzip" }));

  test("a gzip-flagged request reaches the backend, and its gzip reply comes back untouched", async () => {
    const result = await grpcWebCall(served.proxy.url, SAY_HELLO, {
      body: gzippedHello("Zip"),
      headers: LONG_REPLY,
    });
    assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
    assert.equal(result.headers["grpc-encoding"], "gzip");
    const [reply] = messageFrames(result.rawBody);
    assert.equal(reply?.flags, FLAG_COMPRESSED, "the backend's compressed flag is passed on");
    // The proxy wrote the backend's bytes: they are a gzip member, which only the backend could have made.
    assert.deepEqual([reply.payload[0], reply.payload[1]], [0x1f, 0x8b]);
    assert.ok(reply.payload.length < REPLY_BYTES / 10, `${reply.payload.length} bytes`);
    assert.deepEqual(decodedReplies(result), ["x".repeat(REPLY_BYTES)]);
  });

  test("a server stream of compressed replies, in text mode", async () => {
    const result = await grpcWebCall(served.proxy.url, STREAM, {
      body: Buffer.from(gzippedHello("Text").toString("base64")),
      text: true,
      headers: LONG_REPLY,
    });
    assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
    const payloads = result.messages.map((m) => m.data);
    assert.equal(payloads.length, 3);
    // The parsed messages are still compressed: the text-mode base64 wraps the backend's frames as they were.
    assert.deepEqual(
      payloads.map((payload) => fromBinary(HelloReplySchema, gunzipSync(payload)).message),
      Array(3).fill("x".repeat(REPLY_BYTES)),
    );
  });

  gzipRequestLimits(served);
});

describe("a gzip message to a grpcio backend that does not accept gzip", () => {
  const served = behindProxy(grpcio({ accept: ["identity"] }));

  test("the backend's UNIMPLEMENTED is passed on, and identity calls still work", async () => {
    const refused = await grpcWebCall(served.proxy.url, SAY_HELLO, {
      body: gzippedHello("No"),
      headers: GZIP_REQUEST,
    });
    assert.equal(refused.grpcStatus, Code.UNIMPLEMENTED, refused.grpcMessage);
    assert.match(refused.grpcMessage ?? "", /gzip/i, "the backend's own message, naming the encoding");
    const plain = await grpcWebCall(served.proxy.url, SAY_HELLO, { message: helloRequest("Yes") });
    assert.equal(plain.grpcStatus, Code.OK, plain.grpcMessage);
    assert.deepEqual(helloReplies(plain.messages), ["Hello, Yes!"]);
  });
});

describe("grpc-accept-encoding through the proxy to connect-node, which compresses only what the client accepts", () => {
  const served = behindProxy(startConnectNodeBackend);

  test("the browser's grpc-accept-encoding reaches the backend, whose gzip reply comes back untouched", async () => {
    const result = await grpcWebCall(served.proxy.url, SAY_HELLO, {
      body: gzippedHello("Zip"),
      headers: LONG_REPLY,
    });
    assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
    assert.equal(result.headers["grpc-encoding"], "gzip");
    assert.deepEqual(
      messageFrames(result.rawBody).map((f) => f.flags),
      [FLAG_COMPRESSED],
    );
    assert.deepEqual(decodedReplies(result), ["x".repeat(REPLY_BYTES)]);
  });

  // grpcio (1.51) compresses with its default algorithm whatever the client accepts, so this needs connect-node.
  test("without the browser's grpc-accept-encoding the backend is asked for identity, and replies so", async () => {
    const result = await grpcWebCall(served.proxy.url, SAY_HELLO, {
      body: gzippedHello("Plain"),
      headers: { "grpc-encoding": "gzip", "x-reply-bytes": String(REPLY_BYTES) },
    });
    assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
    assert.deepEqual(
      messageFrames(result.rawBody).map((f) => f.flags),
      [0],
    );
    assert.deepEqual(helloReplies(result.messages), ["x".repeat(REPLY_BYTES)]);
  });
});

describe("compressed messages through the proxy to grpc-js", () => {
  const served = behindProxy(startGrpcJsBackend);

  test("a gzip-flagged request reaches the backend, which decompresses it", async () => {
    const result = await grpcWebCall(served.proxy.url, SAY_HELLO, {
      body: gzippedHello("Js"),
      headers: GZIP_REQUEST,
    });
    assert.equal(result.grpcStatus, Code.OK, result.grpcMessage);
    // grpc-js servers (1.14) never compress replies, whatever the client accepts.
    assert.deepEqual(decodedReplies(result), ["Hello, Js!"]);
  });

  test("an encoding the backend does not know: its UNIMPLEMENTED is passed on", async () => {
    const result = await grpcWebCall(served.proxy.url, SAY_HELLO, {
      body: gzippedHello("Snappy"),
      headers: { "grpc-encoding": "snappy" },
    });
    assert.equal(result.grpcStatus, Code.UNIMPLEMENTED, result.grpcMessage);
    assert.match(result.grpcMessage ?? "", /snappy/);
  });

  gzipRequestLimits(served, /decompress/);
});
