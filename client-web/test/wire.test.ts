// How the client reads gRPC-Web responses, byte by byte: a loopback HTTP/1.1 server answers with
// exactly the bytes each test writes, and the client reads them with Node's fetch.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { Greeter } from "../src/greeter.js";
import { createGrpcWebTransport, explainErrors } from "../src/index.js";
import { frame, messageFrame, trailerFrame } from "./support/frames.js";

interface Reply {
  status?: number;
  headers?: OutgoingHttpHeaders;
  body?: Uint8Array[];
  /** Instead of finishing the response, resets the connection (TCP RST) after the body, once this settles. */
  resetAfter?: Promise<void>;
}

let next: Reply = {};
let baseUrl = "";
const server = createServer(async (req, res) => {
  req.resume();
  const { status = 200, headers = {}, body = [], resetAfter } = next;
  res.writeHead(status, { "content-type": "application/grpc-web+proto", ...headers });
  res.flushHeaders();
  for (const chunk of body) res.write(chunk);
  if (resetAfter) {
    await resetAfter;
    res.socket?.resetAndDestroy();
  } else {
    res.end();
  }
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

const message = messageFrame;
const trailer = trailerFrame;

interface Outcome {
  replies: string[];
  error?: ConnectError;
  headers?: Headers;
  trailers?: Headers;
}

const client = () => createClient(Greeter, createGrpcWebTransport({ baseUrl, interceptors }));
let interceptors: Interceptor[] = [];

async function settle(outcome: Outcome, call: () => Promise<void>): Promise<Outcome> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ConnectError, String(error));
    outcome.error = error;
  }
  return outcome;
}

function unary(reply: Reply): Promise<Outcome> {
  next = reply;
  const outcome: Outcome = { replies: [] };
  return settle(outcome, async () => {
    const { message } = await client().sayHello(
      { name: "x" },
      { onHeader: (h) => (outcome.headers = h), onTrailer: (t) => (outcome.trailers = t) },
    );
    outcome.replies.push(message);
  });
}

function stream(reply: Reply, onReply?: () => void): Promise<Outcome> {
  next = reply;
  const outcome: Outcome = { replies: [] };
  return settle(outcome, async () => {
    const replies = client().sayHelloStreamReply({ name: "x" }, { onTrailer: (t) => (outcome.trailers = t) });
    for await (const r of replies) {
      outcome.replies.push(r.message);
      onReply?.();
    }
  });
}

test("a message then a trailer frame, whatever the chunking, is the reply", async () => {
  const bytes = new Uint8Array([...message("hi"), ...trailer("grpc-status:0\r\nx-t:1\r\n")]);
  const chunks = [...bytes].map((b) => new Uint8Array([b]));
  const outcome = await unary({ body: chunks });
  assert.equal(outcome.replies[0], "hi");
  assert.equal(outcome.trailers?.get("x-t"), "1");
});

test("trailer lines with a space after the colon, or in capitals, are read", async () => {
  const outcome = await unary({ body: [message("hi"), trailer("Grpc-Status: 0\r\nX-Trace: abc\r\n")] });
  assert.equal(outcome.replies[0], "hi");
  assert.equal(outcome.trailers?.get("x-trace"), "abc");
});

test("an error status in the trailer frame, percent-encoded message decoded", async () => {
  const outcome = await unary({ body: [trailer("grpc-status:5\r\ngrpc-message:no%20such%20name\r\n")] });
  assert.equal(outcome.error?.code, Code.NotFound);
  assert.equal(outcome.error?.rawMessage, "no such name");
});

test("an error's metadata holds the response headers and the trailers", async () => {
  const outcome = await unary({
    headers: { "x-h": "h" },
    body: [trailer("grpc-status:7\r\ngrpc-message:no\r\nx-t:t\r\n")],
  });
  assert.equal(outcome.error?.code, Code.PermissionDenied);
  assert.equal(outcome.error?.metadata.get("x-h"), "h");
  assert.equal(outcome.error?.metadata.get("x-t"), "t");
});

test("trailers-only: the status in the headers, an empty body", async () => {
  const failed = await unary({ headers: { "grpc-status": "14", "grpc-message": "down", "x-k": "v" } });
  assert.equal(failed.error?.code, Code.Unavailable);
  assert.equal(failed.error?.metadata.get("x-k"), "v");
  const empty = await stream({ headers: { "grpc-status": "0", "x-k": "v" } });
  assert.deepEqual(empty.replies, []);
  assert.equal(empty.trailers?.get("x-k"), "v");
});

test("a grpc-status header wins over the HTTP status", async () => {
  const outcome = await unary({ status: 503, headers: { "grpc-status": "8", "grpc-message": "slow down" } });
  assert.equal(outcome.error?.code, Code.ResourceExhausted);
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
    assert.equal(outcome.error?.code, Code.Internal, JSON.stringify(outcome.error?.rawMessage));
    assert.match(outcome.error?.rawMessage ?? "", /protocol error/);
  }
});

test("a body that ends without a status is UNKNOWN, and replies before it still arrive", async () => {
  const outcome = await stream({ body: [message("one")] });
  assert.deepEqual(outcome.replies, ["one"]);
  assert.equal(outcome.error?.code, Code.Unknown);
  assert.match(outcome.error?.rawMessage ?? "", /without grpc-status/);
});

test("a body cut inside a frame is an error, not a short message", async () => {
  const cut = message("truncated").subarray(0, 6);
  const outcome = await unary({ body: [cut] });
  assert.equal(outcome.error?.code, Code.Internal);
  assert.match(outcome.error?.rawMessage ?? "", /ended inside a frame/);
});

test("a connection reset mid-body is UNAVAILABLE, after the replies that came before it", async () => {
  const half = message("cut").subarray(0, 8);
  // Reset once the client holds the first reply (the rest of the body still pending): a reset that
  // came earlier could make the kernel drop bytes the client had not read yet.
  let gotFirstReply = () => {};
  const firstReply = new Promise<void>((resolve) => (gotFirstReply = resolve));
  const streamed = await stream({ body: [message("one"), half], resetAfter: firstReply }, gotFirstReply);
  assert.deepEqual(streamed.replies, ["one"]);
  assert.equal(streamed.error?.code, Code.Unavailable);
  assert.match(streamed.error?.rawMessage ?? "", /connection broke/);
  // A unary call reset before its reply: UNAVAILABLE as well, whether fetch had the head yet or not.
  const cutUnary = await unary({ body: [half], resetAfter: Promise.resolve() });
  assert.equal(cutUnary.error?.code, Code.Unavailable);
  // The client is not left with a broken connection: the next call on the same server works.
  const after = await unary({ body: [message("again"), trailer("grpc-status:0\r\n")] });
  assert.deepEqual(after.replies, ["again"]);
});

test("a redirect is not followed: explainErrors names it and where it led", async (t) => {
  interceptors = [explainErrors];
  t.after(() => {
    interceptors = [];
  });
  for (const status of [301, 302, 307, 308]) {
    const outcome = await unary({
      status,
      headers: {
        location: "https://elsewhere.example/helloworld.Greeter/SayHello",
        "content-type": "text/html",
      },
    });
    assert.equal(outcome.error?.code, Code.Unknown, String(status));
    assert.match(
      outcome.error?.rawMessage ?? "",
      new RegExp(
        `^HTTP ${status} text/html: not gRPC-Web but a redirect to https://elsewhere\\.example/\\S+, not followed: .*baseUrl`,
      ),
    );
    assert.equal(
      outcome.error?.metadata.get("location"),
      "https://elsewhere.example/helloworld.Greeter/SayHello",
    );
  }
});
