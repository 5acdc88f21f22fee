// How the client reads gRPC-Web responses, byte by byte: a loopback HTTP/1.1 server answers with
// exactly the bytes each test writes, and the client reads them with Node's fetch.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { createGreeterClient, GrpcWebError, HelloReplySchema } from "../src/index.js";

interface Reply {
  status?: number;
  headers?: OutgoingHttpHeaders;
  body?: Uint8Array[];
}

let next: Reply = {};
let baseUrl = "";
const server = createServer((req, res) => {
  req.resume();
  const { status = 200, headers = {}, body = [] } = next;
  res.writeHead(status, { "content-type": "application/grpc-web+proto", ...headers });
  for (const chunk of body) res.write(chunk);
  res.end();
});

before(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function frame(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}
const message = (text: string) =>
  frame(0, toBinary(HelloReplySchema, create(HelloReplySchema, { message: text })));
const trailer = (block: string) => frame(0x80, new TextEncoder().encode(block));

interface UnaryOutcome {
  reply?: string;
  error?: GrpcWebError;
  headers?: Headers;
  trailers?: Headers;
}

async function unary(reply: Reply): Promise<UnaryOutcome> {
  next = reply;
  const seen: UnaryOutcome = {};
  const options = {
    onHeaders: (h: Headers) => (seen.headers = h),
    onTrailers: (t: Headers) => (seen.trailers = t),
  };
  try {
    return {
      reply: (await createGreeterClient({ baseUrl }).sayHello({ name: "x" }, options)).message,
      ...seen,
    };
  } catch (error) {
    assert.ok(error instanceof GrpcWebError, String(error));
    return { error, ...seen };
  }
}

async function stream(reply: Reply) {
  next = reply;
  const replies: string[] = [];
  let trailers: Headers | undefined;
  try {
    const call = createGreeterClient({ baseUrl }).sayHelloStreamReply(
      { name: "x" },
      { onTrailers: (t) => (trailers = t) },
    );
    for await (const r of call) replies.push(r.message);
    return { replies, trailers };
  } catch (error) {
    assert.ok(error instanceof GrpcWebError, String(error));
    return { replies, error };
  }
}

test("a message then a trailer frame, whatever the chunking, is the reply", async () => {
  const bytes = new Uint8Array([...message("hi"), ...trailer("grpc-status:0\r\nx-t:1\r\n")]);
  const chunks = [...bytes].map((b) => new Uint8Array([b]));
  const outcome = await unary({ body: chunks });
  assert.equal(outcome.reply, "hi");
  assert.equal(outcome.trailers?.get("x-t"), "1");
});

test("trailer lines with a space after the colon, or in capitals, are read", async () => {
  const outcome = await unary({ body: [message("hi"), trailer("Grpc-Status: 0\r\nX-Trace: abc\r\n")] });
  assert.equal(outcome.reply, "hi");
  assert.equal(outcome.trailers?.get("x-trace"), "abc");
});

test("an error status in the trailer frame, percent-encoded message decoded", async () => {
  const outcome = await unary({ body: [trailer("grpc-status:5\r\ngrpc-message:no%20such%20name\r\n")] });
  assert.equal(outcome.error?.codeName, "NOT_FOUND");
  assert.equal(outcome.error?.rawMessage, "no such name");
});

test("trailers-only: the status in the headers, an empty body", async () => {
  const failed = await unary({ headers: { "grpc-status": "14", "grpc-message": "down", "x-k": "v" } });
  assert.equal(failed.error?.codeName, "UNAVAILABLE");
  assert.equal(failed.error?.headers.get("x-k"), "v");
  assert.equal(failed.error?.trailers.get("x-k"), "v");
  const empty = await stream({ headers: { "grpc-status": "0", "x-k": "v" } });
  assert.deepEqual(empty.replies, []);
  assert.equal(empty.trailers?.get("x-k"), "v");
});

test("a grpc-status header wins over the HTTP status", async () => {
  const outcome = await unary({ status: 503, headers: { "grpc-status": "8", "grpc-message": "slow down" } });
  assert.equal(outcome.error?.codeName, "RESOURCE_EXHAUSTED");
});

test("protocol violations are INTERNAL, not silently accepted", async () => {
  const cases: Reply[] = [
    { body: [trailer("grpc-status:0\r\n"), message("late")] },
    { body: [frame(1, new Uint8Array([1])), trailer("grpc-status:0\r\n")] },
    { body: [message("one"), message("two"), trailer("grpc-status:0\r\n")] },
    { body: [trailer("grpc-status:0\r\n")] },
    { headers: { "grpc-status": "0" }, body: [message("after trailers-only")] },
  ];
  for (const reply of cases) {
    const outcome = await unary(reply);
    assert.equal(outcome.error?.codeName, "INTERNAL", JSON.stringify(outcome.error?.rawMessage));
    assert.match(outcome.error?.rawMessage ?? "", /protocol error/);
  }
});

test("a body that ends without a status is UNKNOWN, and replies before it still arrive", async () => {
  const outcome = await stream({ body: [message("one")] });
  assert.deepEqual(outcome.replies, ["one"]);
  assert.equal(outcome.error?.codeName, "UNKNOWN");
  assert.match(outcome.error?.rawMessage ?? "", /without grpc-status/);
});

test("a body cut inside a frame is an error, not a short message", async () => {
  const cut = message("truncated").subarray(0, 6);
  const outcome = await unary({ body: [cut] });
  assert.equal(outcome.error?.codeName, "INTERNAL");
  assert.match(outcome.error?.rawMessage ?? "", /ended inside a frame/);
});
