// The client in Node (>= 20) with its global fetch, against real loopback servers: the proxy in
// front of a connect-node backend, and servers that misbehave the ways a client must survive.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { test } from "node:test";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { DEAD_PORT } from "../../testing/net.js";
import { Greeter } from "../src/greeter.js";
import {
  createGrpcWebTransport,
  createWebClient,
  explainErrors,
  type GrpcWebTransportOptions,
} from "../src/index.js";
import { failure } from "./support/failure.js";
import { greeterBehindProxyForFile } from "./support/greeter-behind-proxy.js";

/** The README's way: connect's createClient on this package's transport. */
const greeter = (options: GrpcWebTransportOptions) => createClient(Greeter, createGrpcWebTransport(options));

const greeterBehindProxy = greeterBehindProxyForFile();

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
  const client = greeter({ baseUrl: greeterBehindProxy.proxy.url, defaultTimeoutMs: 5000 });
  assert.equal((await client.sayHello({ name: "Node" })).message, "Hello, Node!");
  const replies: string[] = [];
  for await (const reply of client.sayHelloStreamReply({ name: "Node" })) replies.push(reply.message);
  assert.deepEqual(replies, ["Hello, Node! #1", "Hello, Node! #2", "Hello, Node! #3"]);
});

test("an injected fetch is used, and called as a plain function", async () => {
  const receivers: unknown[] = [];
  const client = greeter({
    baseUrl: greeterBehindProxy.proxy.url,
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
  const client = greeter({ baseUrl: greeterBehindProxy.proxy.url, interceptors: [refreshOnce] });
  let headers = new Headers();
  const reply = await client.sayHello(
    { name: "Node" },
    { headers: { "x-fail-code": String(Code.Unauthenticated) }, onHeader: (h) => (headers = h) },
  );
  assert.equal(reply.message, "Hello, Node!");
  assert.equal(headers.get("x-echo-token"), "fresh");
});

test("a proxy that never answers: DEADLINE_EXCEEDED locally, on time", async (t) => {
  const client = greeter({ baseUrl: await startSilentServer(t), defaultTimeoutMs: 200 });
  const started = performance.now();
  const unary = await failure(client.sayHello({ name: "Node" }));
  const stream = await failure(client.sayHelloStreamReply({ name: "Node" }, { timeoutMs: 300 }));
  const elapsed = performance.now() - started;
  assert.equal(unary.code, Code.DeadlineExceeded);
  assert.equal(stream.code, Code.DeadlineExceeded);
  assert.ok(elapsed >= 450 && elapsed < 3000, `both settled after ${elapsed} ms`);
});

test("interceptors see an aborted call as DEADLINE_EXCEEDED or CANCELLED, not as a network failure", async (t) => {
  const seen: Code[] = [];
  const record: Interceptor = (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      seen.push(ConnectError.from(error).code);
      throw error;
    }
  };
  const client = greeter({
    baseUrl: await startSilentServer(t),
    defaultTimeoutMs: 100,
    interceptors: [record],
  });
  await failure(client.sayHello({ name: "Node" }));
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await failure(client.sayHello({ name: "Node" }, { signal: controller.signal, timeoutMs: 0 }));
  assert.deepEqual(seen, [Code.DeadlineExceeded, Code.Canceled]);
});

test("a deadline that passes mid-stream ends the iterator with DEADLINE_EXCEEDED", async () => {
  const client = greeter({ baseUrl: greeterBehindProxy.proxy.url });
  const replies: string[] = [];
  const stream = client.sayHelloStreamReply(
    { name: "Node" },
    { timeoutMs: 500, headers: { "x-stream-count": "50", "x-stream-interval-ms": "100" } },
  );
  const error = await failure(
    (async () => {
      for await (const reply of stream) replies.push(reply.message);
    })(),
  );
  assert.equal(error.code, Code.DeadlineExceeded);
  // Timing on a loaded machine varies; what matters is that replies came, and the stream was cut short.
  assert.ok(replies.length >= 1 && replies.length < 50, `${replies.length} replies before the deadline`);
});

test("nothing listening: UNAVAILABLE, the code the retry interceptor retries; explainErrors names the network and CORS", async () => {
  const client = greeter({ baseUrl: `http://127.0.0.1:${DEAD_PORT}`, interceptors: [explainErrors] });
  const error = await failure(client.sayHello({ name: "Node" }));
  assert.equal(error.code, Code.Unavailable);
  assert.match(error.rawMessage, /the network failed, or CORS refused the call/);
  assert.ok(error.cause instanceof TypeError, String(error.cause));
});

test("baseUrl pointing at a web server: explainErrors says so instead of failing to parse HTML", async (t) => {
  const server = createHttpServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html>"),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const address = server.address();
  assert.ok(address && typeof address === "object");
  const client = greeter({ baseUrl: `http://127.0.0.1:${address.port}`, interceptors: [explainErrors] });
  const error = await failure(client.sayHello({ name: "Node" }));
  assert.equal(error.code, Code.Unknown);
  assert.match(error.rawMessage, /^HTTP 200 text\/html: not gRPC-Web but an HTML page.*baseUrl/);
});

test("a deadline of zero or less means none (connect's rule), even against the transport's default", async () => {
  const client = greeter({ baseUrl: greeterBehindProxy.proxy.url, defaultTimeoutMs: 100 });
  const reply = await client.sayHello({ name: "Node" }, { timeoutMs: 0, headers: { "x-sleep-ms": "300" } });
  assert.equal(reply.message, "Hello, Node!");
});

test("the deadline goes out as grpc-timeout, after interceptors and metadata had their say", async () => {
  let sent: string | null = null;
  const peek: Interceptor = (next) => (req) => {
    sent = req.header.get("grpc-timeout");
    return next(req);
  };
  const client = greeter({
    baseUrl: greeterBehindProxy.proxy.url,
    defaultTimeoutMs: 5000,
    interceptors: [peek],
  });
  await client.sayHello(
    { name: "Node" },
    { headers: { "grpc-timeout": "1m", "content-type": "text/plain" } },
  );
  assert.equal(sent, "5000m");
  await client.sayHello({ name: "Node" }, { timeoutMs: 1500 });
  assert.equal(sent, "1500m");
});

test("createWebClient: breaking out of a stream cancels the call, and the backend sees it", async () => {
  const client = createWebClient(Greeter, createGrpcWebTransport({ baseUrl: greeterBehindProxy.proxy.url }));
  assert.equal((await client.sayHello({ name: "Node" })).message, "Hello, Node!");
  const stream = client.sayHelloStreamReply(
    { name: "Node" },
    { headers: { "x-stream-count": "50", "x-stream-interval-ms": "50", "x-case": "break" } },
  );
  for await (const reply of stream) {
    assert.equal(reply.message, "Hello, Node! #1");
    break;
  }
  await greeterBehindProxy.backend.waitFor(
    (o) => o.event === "cancelled" && o.metadata["x-case"] === "break",
  );
});

test("a stream nobody reads fails quietly, and reports its error once read", async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  t.after(() => process.off("unhandledRejection", onUnhandled));
  const transport = createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${DEAD_PORT}` });
  const stream = createWebClient(Greeter, transport).sayHelloStreamReply({ name: "Node" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(unhandled, []);
  assert.equal((await failure(stream)).code, Code.Unavailable);
});
