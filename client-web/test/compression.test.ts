// Message compression in Node, through the proxy to real backends: connect-node and grpcio compress
// their replies for a client that offers gzip and take gzip requests; grpc-js takes gzip requests
// (its server does not compress replies). What went over the wire is read by a fetch wrapper
// between the client and the proxy, or by a WebSocket class that records the messages of a call over
// WebSocket; misbehaving replies come from a loopback HTTP/1.1 server.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import WebSocket from "ws";
import { startProxy } from "../../proxy/test/support/proxy.js";
import { Greeter } from "../src/greeter.js";
import { createGrpcWebTransport, type GrpcWebTransportOptions, gzip, gzipCompression } from "../src/index.js";
import { createWebSocketTransport } from "../src/websocket/index.js";
import { frame, helloReply, trailerFrame } from "./support/frames.js";
import { startGreeterBehindProxy } from "./support/greeter-behind-proxy.js";
import { startGzipGrpcioBackend } from "./support/gzip-grpcio-backend.js";

interface Exchange {
  /** The request body's size and its first frame's flags; the request's grpc-encoding and grpc-accept-encoding. */
  sent: { bytes: number; flags: number; encoding: string | null; accepts: string | null };
  /** The response body's size, its first frame's flags, and the response's grpc-encoding. */
  received: { bytes: number; flags: number; encoding: string | null };
}

/** A fetch that records each exchange as it went over the wire; it reads a body to its end before handing it on. */
function wireTap(): { fetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  return {
    exchanges,
    async fetch(input, init = {}) {
      const body = new Uint8Array(await (init.body as Blob).arrayBuffer());
      const headers = new Headers(init.headers);
      const response = await fetch(input, init);
      const received = new Uint8Array(await response.clone().arrayBuffer());
      exchanges.push({
        sent: {
          bytes: body.length,
          flags: body[0] ?? -1,
          encoding: headers.get("grpc-encoding"),
          accepts: headers.get("grpc-accept-encoding"),
        },
        received: {
          bytes: received.length,
          flags: received[0] ?? -1,
          encoding: response.headers.get("grpc-encoding"),
        },
      });
      return response;
    },
  };
}

/** Each backend, behind a proxy of its own. */
const stops: (() => Promise<void>)[] = [];
const proxyUrl: Record<string, string> = {};

before(async () => {
  for (const [name, kind] of [
    ["connectNode", "connect-node"],
    ["grpcJs", "grpc-js"],
  ] as const) {
    const started = await startGreeterBehindProxy(kind);
    stops.push(started.close);
    proxyUrl[name] = started.proxy.url;
  }
  for (const [name, accept] of [
    ["grpcio", ["identity", "gzip"]],
    ["grpcioIdentityOnly", ["identity"]],
  ] as const) {
    const backend = await startGzipGrpcioBackend(accept);
    const proxy = await startProxy(backend.url);
    stops.push(async () => {
      await proxy.close();
      await backend.close();
    });
    proxyUrl[name] = proxy.url;
  }
});

after(async () => {
  for (const stop of stops) await stop();
});

function greeter(backend: string, options: Partial<GrpcWebTransportOptions> = {}) {
  const tap = wireTap();
  const client = createClient(
    Greeter,
    createGrpcWebTransport({ baseUrl: proxyUrl[backend] ?? "", fetch: tap.fetch, ...options }),
  );
  return { client, exchanges: tap.exchanges };
}

/** A request name that compresses well, and the size of its HelloRequest. */
const longName = "Ada Lovelace ".repeat(400);

for (const backend of ["connectNode", "grpcio"]) {
  test(`${backend}: with gzip, a large request goes compressed and the large reply comes compressed, content intact`, async () => {
    const { client, exchanges } = greeter(backend, { compression: gzip });
    const reply = await client.sayHello({ name: longName });
    assert.equal(reply.message, `Hello, ${longName}!`);
    const [exchange] = exchanges;
    assert.ok(exchange);
    assert.deepEqual(
      { flags: exchange.sent.flags, encoding: exchange.sent.encoding, accepts: exchange.sent.accepts },
      { flags: 1, encoding: "gzip", accepts: "gzip" },
    );
    assert.ok(exchange.sent.bytes < longName.length / 10, `${exchange.sent.bytes} bytes sent`);
    assert.deepEqual(
      { flags: exchange.received.flags, encoding: exchange.received.encoding },
      { flags: 1, encoding: "gzip" },
    );
    assert.ok(exchange.received.bytes < longName.length / 10, `${exchange.received.bytes} bytes received`);
  });

  test(`${backend}: a compressed server stream, every reply decompressed in order`, async () => {
    const { client, exchanges } = greeter(backend, { compression: gzip });
    const replies: string[] = [];
    for await (const reply of client.sayHelloStreamReply(
      { name: "Ada" },
      { headers: { "x-reply-bytes": "20000", "x-stream-count": "3" } },
    )) {
      replies.push(reply.message);
    }
    assert.deepEqual(replies, ["x".repeat(20_000), "x".repeat(20_000), "x".repeat(20_000)]);
    assert.equal(exchanges[0]?.received.encoding, "gzip");
    assert.ok((exchanges[0]?.received.bytes ?? 0) < 20_000, `${exchanges[0]?.received.bytes} bytes received`);
  });
}

test("a request smaller than minBytes goes uncompressed, gzip still offered for the reply", async () => {
  const { client, exchanges } = greeter("connectNode", { compression: gzip });
  const reply = await client.sayHello({ name: "Ada" }, { headers: { "x-reply-bytes": "5000" } });
  assert.equal(reply.message, "x".repeat(5000));
  assert.deepEqual(exchanges[0]?.sent.flags, 0);
  assert.equal(exchanges[0]?.sent.encoding, null);
  assert.equal(exchanges[0]?.sent.accepts, "gzip");
  assert.equal(exchanges[0]?.received.encoding, "gzip");
});

test("compression is the transport's: beside one with gzip, a transport without it neither compresses nor offers it", async () => {
  const withGzip = greeter("connectNode", { compression: gzip });
  const without = greeter("connectNode");
  assert.equal((await withGzip.client.sayHello({ name: longName })).message, `Hello, ${longName}!`);
  assert.equal((await without.client.sayHello({ name: longName })).message, `Hello, ${longName}!`);
  const [compressed, plain] = [...withGzip.exchanges, ...without.exchanges];
  assert.equal(compressed?.sent.encoding, "gzip");
  assert.equal(compressed?.received.encoding, "gzip");
  assert.equal(plain?.sent.flags, 0);
  assert.equal(plain?.sent.accepts, null);
  assert.equal(plain?.received.flags, 0);
  assert.ok((plain?.sent.bytes ?? 0) > longName.length);
});

test("grpc-js takes a gzip request (its server sends replies uncompressed)", async () => {
  const { client, exchanges } = greeter("grpcJs", { compression: gzip });
  assert.equal((await client.sayHello({ name: longName })).message, `Hello, ${longName}!`);
  assert.equal(exchanges[0]?.sent.encoding, "gzip");
  assert.equal(exchanges[0]?.received.flags, 0);
});

test("a backend that does not take gzip answers a compressed request UNIMPLEMENTED, passed on", async () => {
  const { client } = greeter("grpcioIdentityOnly", { compression: gzip });
  await assert.rejects(
    client.sayHello({ name: longName }),
    (error) => error instanceof ConnectError && error.code === Code.Unimplemented,
  );
  // A small request is not compressed, so the same backend answers it.
  assert.equal((await client.sayHello({ name: "Ada" })).message, "Hello, Ada!");
});

/** ws's WebSocket, recording the messages each call sent and received as they went over the wire. */
function socketTap() {
  const sent: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  class TappedWebSocket extends WebSocket {
    constructor(url: string, protocol: string) {
      super(url, protocol);
      this.on("message", (data: ArrayBuffer) => received.push(new Uint8Array(data)));
    }
    override send(data: Uint8Array): void {
      sent.push(data);
      super.send(data);
    }
  }
  return { WebSocket: TappedWebSocket, sent, received };
}

/** The flags and length of each frame in a byte stream (the server's messages after the headers). */
function framesOf(messages: Uint8Array[]): { flags: number; length: number }[] {
  const bytes = Buffer.concat(messages);
  const frames = [];
  for (let at = 0; at < bytes.length; at += 5 + bytes.readUInt32BE(at + 1)) {
    frames.push({ flags: bytes[at] as number, length: bytes.readUInt32BE(at + 1) });
  }
  return frames;
}

/** A bidi call over WebSocket with gzip: a large request, then a small one; what was sent and received. */
async function gzipBidiOverWebSocket(backend: string) {
  const tap = socketTap();
  const client = createClient(
    Greeter,
    createWebSocketTransport({
      baseUrl: proxyUrl[backend] ?? "",
      WebSocket: tap.WebSocket,
      compression: gzip,
    }),
  );
  async function* names() {
    yield { name: longName };
    yield { name: "Ada" };
  }
  const replies: string[] = [];
  for await (const reply of client.sayHelloBidiStream(names(), { timeoutMs: 10_000 }))
    replies.push(reply.message);
  const [headerLines, ...data] = tap.sent;
  return {
    replies,
    headerLines: new TextDecoder().decode(headerLines),
    // A data message is the control byte 0, then a frame: its flags are the message's second byte.
    sent: data.slice(0, -1).map((message) => ({ flags: message[1], bytes: message.length })),
    received: framesOf(tap.received.slice(1)),
  };
}

for (const backend of ["connectNode", "grpcio"]) {
  test(`${backend}, bidi over WebSocket with gzip: the large request compressed and flagged, the large reply decompressed`, async () => {
    const call = await gzipBidiOverWebSocket(backend);
    assert.deepEqual(call.replies, [`Hello, ${longName}!`, "Hello, Ada!"]);
    assert.match(call.headerLines, /^grpc-encoding: gzip\r$/m);
    assert.match(call.headerLines, /^grpc-accept-encoding: gzip\r$/m);
    assert.deepEqual(
      call.sent.map(({ flags }) => flags),
      [1, 0],
    );
    assert.ok((call.sent[0]?.bytes ?? 0) < longName.length / 10, `${call.sent[0]?.bytes} bytes sent`);
    // The backend compressed the large reply because the proxy passed grpc-accept-encoding on.
    const [large] = call.received;
    assert.equal(large?.flags, 1);
    assert.ok((large?.length ?? 0) < longName.length / 10, `${large?.length} bytes received`);
  });
}

test("grpc-js, bidi over WebSocket with gzip: it takes the compressed request", async () => {
  const call = await gzipBidiOverWebSocket("grpcJs");
  assert.deepEqual(call.replies, [`Hello, ${longName}!`, "Hello, Ada!"]);
  assert.equal(call.sent[0]?.flags, 1);
  assert.equal(call.received[0]?.flags, 0);
});

test("over WebSocket, a backend that does not take gzip answers a compressed request UNIMPLEMENTED", async () => {
  const error = await gzipBidiOverWebSocket("grpcioIdentityOnly").then(
    () => assert.fail("the call succeeded"),
    (reason: unknown) => ConnectError.from(reason),
  );
  assert.equal(error.code, Code.Unimplemented);
});

test("a reply past maxDecompressedBytes ends RESOURCE_EXHAUSTED, and the transport goes on", async () => {
  const { client } = greeter("connectNode", {
    compression: gzipCompression({ maxDecompressedBytes: 50_000 }),
  });
  await assert.rejects(
    client.sayHello({ name: "Ada" }, { headers: { "x-reply-bytes": "200000" } }),
    (error) => error instanceof ConnectError && error.code === Code.ResourceExhausted,
  );
  assert.equal(
    (await client.sayHello({ name: "Ada" }, { headers: { "x-reply-bytes": "40000" } })).message.length,
    40_000,
  );
});

test("a gzip bomb: a few hundred bytes that would inflate to 64 MiB stop at the cap", async () => {
  const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024));
  assert.ok(bomb.length < 100_000);
  await assert.rejects(
    gzip.decompress(bomb, new Headers({ "grpc-encoding": "gzip" })),
    (error) => error instanceof ConnectError && error.code === Code.ResourceExhausted,
  );
});

// Replies no proxy sends: grpc-encoding as the test says, and a compressed-flagged frame of its bytes.
let rawUrl = "";
let rawReply: { encoding: string; payload: Uint8Array } = { encoding: "gzip", payload: new Uint8Array() };
const raw = createServer((req, res) => {
  req.resume();
  const { encoding, payload } = rawReply;
  res.writeHead(200, { "content-type": "application/grpc-web+proto", "grpc-encoding": encoding });
  res.end(Buffer.concat([frame(1, payload), trailerFrame("grpc-status:0\r\n")]));
});
before(async () => {
  raw.listen(0, "127.0.0.1");
  await once(raw, "listening");
  rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
});
after(() => {
  raw.closeAllConnections();
  raw.close();
});

test("a corrupt gzip message is INTERNAL, and a good one after it on the same transport works", async () => {
  const client = createClient(Greeter, createGrpcWebTransport({ baseUrl: rawUrl, compression: gzip }));
  const good = gzipSync(helloReply("fine"));
  rawReply = { encoding: "gzip", payload: good.subarray(0, good.length - 6) };
  await assert.rejects(client.sayHello({ name: "Ada" }), (error) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Internal);
    assert.match(error.rawMessage, /not valid gzip/);
    return true;
  });
  rawReply = { encoding: "gzip", payload: new TextEncoder().encode("not gzip at all") };
  await assert.rejects(
    client.sayHello({ name: "Ada" }),
    (error) => error instanceof ConnectError && error.code === Code.Internal,
  );
  rawReply = { encoding: "gzip", payload: good };
  assert.equal((await client.sayHello({ name: "Ada" })).message, "fine");
});

test("a frame compressed in an encoding the call did not offer is INTERNAL, naming it", async () => {
  rawReply = { encoding: "deflate", payload: new Uint8Array([1, 2, 3]) };
  const offered = createClient(Greeter, createGrpcWebTransport({ baseUrl: rawUrl, compression: gzip }));
  await assert.rejects(offered.sayHello({ name: "Ada" }), (error) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Internal);
    assert.match(error.rawMessage, /compressed with deflate/);
    return true;
  });
  const none = createClient(Greeter, createGrpcWebTransport({ baseUrl: rawUrl }));
  await assert.rejects(none.sayHello({ name: "Ada" }), (error) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Internal);
    assert.match(error.rawMessage, /compressed frame, no encoding offered/);
    return true;
  });
});
