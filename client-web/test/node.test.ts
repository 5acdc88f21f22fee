// The client in Node (>= 20) with its global fetch, against real loopback servers: the proxy in
// front of a connect-node backend, and servers that misbehave the ways a client must survive.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Backend, startBackend } from "../../proxy/test/support/backends.js";
import { type RunningProxy, startProxy } from "../../proxy/test/support/proxy.js";
import { freePort } from "../../testing/net.js";
import { codeName, createGreeterClient, GrpcWebError, type Interceptor } from "../src/index.js";

let backend: Backend;
let proxy: RunningProxy;

before(async () => {
  backend = await startBackend("connect-node");
  proxy = await startProxy(backend.url);
});

after(async () => {
  // After an aborted fetch, Node's fetch (undici) opens a spare connection that never carries a
  // request; server.close() does not count it as idle and would wait out the proxy's 72 s
  // keep-alive for it, so the test cuts every connection once closing has begun.
  const closing = proxy?.close();
  proxy?.app.server.closeAllConnections();
  await closing;
  await backend?.close();
});

/** The error a call rejects with, asserting it is a GrpcWebError. */
async function failure(call: Promise<unknown> | AsyncIterable<unknown>): Promise<GrpcWebError> {
  try {
    if (call instanceof Promise) await call;
    else for await (const _ of call);
  } catch (error) {
    assert.ok(error instanceof GrpcWebError, String(error));
    return error;
  }
  assert.fail("the call succeeded");
}

/** A loopback server that accepts connections, reads requests and never answers. */
async function startSilentServer(t: { after(fn: () => unknown): void }): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.resume();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return `http://127.0.0.1:${address.port}`;
}

test("in Node, unary and streaming calls work through the proxy with the global fetch", async () => {
  const client = createGreeterClient({ baseUrl: proxy.url, timeoutMs: 5000 });
  assert.equal((await client.sayHello({ name: "Node" })).message, "Hello, Node!");
  const replies: string[] = [];
  for await (const reply of client.sayHelloStreamReply({ name: "Node" })) replies.push(reply.message);
  assert.deepEqual(replies, ["Hello, Node! #1", "Hello, Node! #2", "Hello, Node! #3"]);
});

test("an injected fetch is used, and called as a plain function", async () => {
  const receivers: unknown[] = [];
  const client = createGreeterClient({
    baseUrl: proxy.url,
    fetch(this: unknown, input, init) {
      receivers.push(this);
      return fetch(input, init);
    },
  });
  await client.sayHello({ name: "Node" });
  assert.deepEqual(receivers, [undefined]);
});

test("an async interceptor can re-issue a call, e.g. after refreshing a token", async () => {
  const refreshOnce: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (ConnectError.from(error).code !== Code.Unauthenticated) throw error;
      const token = await Promise.resolve("fresh");
      const header = new Headers(req.header);
      header.delete("x-fail-code");
      header.set("x-echo-token", token);
      return next({ ...req, header });
    }
  };
  const client = createGreeterClient({
    baseUrl: proxy.url,
    interceptors: [refreshOnce],
    metadata: { "x-fail-code": String(Code.Unauthenticated) },
  });
  let headers = new Headers();
  const reply = await client.sayHello({ name: "Node" }, { onHeaders: (h) => (headers = h) });
  assert.equal(reply.message, "Hello, Node!");
  assert.equal(headers.get("x-echo-token"), "fresh");
});

test("a proxy that never answers: DEADLINE_EXCEEDED locally, on time", async (t) => {
  const client = createGreeterClient({ baseUrl: await startSilentServer(t), timeoutMs: 200 });
  const started = performance.now();
  const unary = await failure(client.sayHello({ name: "Node" }));
  const stream = await failure(client.sayHelloStreamReply({ name: "Node" }, { timeoutMs: 300 }));
  const elapsed = performance.now() - started;
  assert.equal(unary.codeName, "DEADLINE_EXCEEDED");
  assert.equal(stream.codeName, "DEADLINE_EXCEEDED");
  assert.ok(elapsed >= 450 && elapsed < 3000, `both settled after ${elapsed} ms`);
});

test("interceptors see an aborted call as DEADLINE_EXCEEDED or CANCELLED, not as a network failure", async (t) => {
  const seen: string[] = [];
  const record: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      seen.push(codeName(ConnectError.from(error).code));
      throw error;
    }
  };
  const client = createGreeterClient({
    baseUrl: await startSilentServer(t),
    timeoutMs: 100,
    interceptors: [record],
  });
  await failure(client.sayHello({ name: "Node" }));
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await failure(
    client.sayHello({ name: "Node" }, { signal: controller.signal, timeoutMs: Number.POSITIVE_INFINITY }),
  );
  assert.deepEqual(seen, ["DEADLINE_EXCEEDED", "CANCELLED"]);
});

test("a deadline that passes mid-stream ends the iterator with DEADLINE_EXCEEDED", async () => {
  const client = createGreeterClient({ baseUrl: proxy.url });
  const replies: string[] = [];
  const stream = client.sayHelloStreamReply(
    { name: "Node" },
    { timeoutMs: 500, metadata: { "x-stream-count": "50", "x-stream-interval-ms": "100" } },
  );
  const error = await failure(
    (async () => {
      for await (const reply of stream) replies.push(reply.message);
    })(),
  );
  assert.equal(error.codeName, "DEADLINE_EXCEEDED");
  // Timing on a loaded machine varies; what matters is that replies came, and the stream was cut short.
  assert.ok(replies.length >= 1 && replies.length < 50, `${replies.length} replies before the deadline`);
});

test("nothing listening: UNAVAILABLE, the code the retry interceptor retries", async () => {
  const client = createGreeterClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
  const error = await failure(client.sayHello({ name: "Node" }));
  assert.equal(error.codeName, "UNAVAILABLE");
  assert.match(error.rawMessage, /network error/);
});

test("baseUrl pointing at a web server: the error says so instead of failing to parse HTML", async (t) => {
  const server = createHttpServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html>"),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const address = server.address();
  assert.ok(address && typeof address === "object");
  const client = createGreeterClient({ baseUrl: `http://127.0.0.1:${address.port}` });
  const error = await failure(client.sayHello({ name: "Node" }));
  assert.equal(error.codeName, "UNKNOWN");
  assert.match(error.rawMessage, /text\/html.*baseUrl/);
});

test("bytes under a key without -bin: INVALID_ARGUMENT, and no request is sent", async () => {
  const calls = backend.observations.length;
  const client = createGreeterClient({ baseUrl: proxy.url });
  const bad = { metadata: { "x-id": new Uint8Array([1]) } };
  assert.equal((await failure(client.sayHello({ name: "Node" }, bad))).codeName, "INVALID_ARGUMENT");
  assert.equal(
    (await failure(client.sayHelloStreamReply({ name: "Node" }, bad))).codeName,
    "INVALID_ARGUMENT",
  );
  assert.equal(backend.observations.length, calls);
});

test("a deadline of zero fails at once, without a request", async () => {
  const calls = backend.observations.length;
  const client = createGreeterClient({ baseUrl: proxy.url, timeoutMs: 0 });
  assert.equal((await failure(client.sayHello({ name: "Node" }))).codeName, "DEADLINE_EXCEEDED");
  assert.equal(backend.observations.length, calls);
});

test("breaking out of a stream cancels the call, and the backend sees it", async () => {
  const client = createGreeterClient({ baseUrl: proxy.url });
  const stream = client.sayHelloStreamReply(
    { name: "Node" },
    { metadata: { "x-stream-count": "50", "x-stream-interval-ms": "50", "x-case": "break" } },
  );
  for await (const reply of stream) {
    assert.equal(reply.message, "Hello, Node! #1");
    break;
  }
  await backend.waitFor((o) => o.event === "cancelled" && o.metadata["x-case"] === "break");
});

test("a stream nobody reads fails quietly, and reports its error once read", async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  t.after(() => process.off("unhandledRejection", onUnhandled));
  const client = createGreeterClient({ baseUrl: `http://127.0.0.1:${await freePort()}` });
  const stream = client.sayHelloStreamReply({ name: "Node" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(unhandled, []);
  assert.equal((await failure(stream)).codeName, "UNAVAILABLE");
});
