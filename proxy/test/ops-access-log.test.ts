// One access-log line per call, request ids end to end, and trace headers passed through untouched.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import Fastify from "fastify";
import { grpcWebProxy } from "../src/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { type GrpcWebCallOptions, grpcWebCall } from "./support/grpc-web-client.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { openWebSocketCall } from "./support/websocket-call.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const BODY_MARKER = "Zebulon-in-the-body";
const hello = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: BODY_MARKER }));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type LogLine = Record<string, unknown>;

describe("access log and request ids", () => {
  let backend: Backend;
  let proxy: RunningProxy;
  let logText = "";
  /** Where the proxies under test log to. */
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logText += chunk.toString();
      done();
    },
  });
  before(async () => {
    backend = await startBackend("connect-node");
    proxy = await startProxy(backend.url, {
      logger: { level: "info", stream },
      allowedOrigins: ["http://app.test"],
    });
  });
  after(async () => {
    await proxy?.close();
    await backend?.close();
  });

  const call = (options: GrpcWebCallOptions = {}, path = SAY_HELLO) =>
    grpcWebCall(proxy.url, path, { message: hello, ...options });
  const callLines = (): LogLine[] =>
    logText
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.msg === "call");
  const lineOf = (requestId: string, key = "reqId"): LogLine => {
    const lines = callLines().filter((line) => line[key] === requestId);
    assert.equal(lines.length, 1, `one line for ${requestId}`);
    return lines[0] as LogLine;
  };
  const backendSaw = (requestId: string) =>
    backend.waitFor((o) => o.event === "started" && o.metadata["x-request-id"] === requestId);

  test("one info line per call with its fields, and never a body, authorization or cookie", async () => {
    const result = await call({
      headers: {
        "x-request-id": "req-42",
        authorization: "Bearer s3cret-token",
        cookie: "session=c00kie-value",
        "user-agent": "ops-test/1.0",
      },
    });
    assert.equal(result.grpcStatus, 0);
    const line = lineOf("req-42");
    assert.equal(line.level, 30);
    assert.equal(line.path, SAY_HELLO);
    assert.equal(line.upstream, "default", "the upstream's name, not its address");
    assert.equal(line.transport, "http/1.1");
    assert.equal(line.grpcCode, "OK");
    assert.equal(line.grpcStatus, 0);
    assert.equal(line.cause, "backend");
    assert.equal(line.bytesIn, 5 + hello.length);
    assert.equal(
      line.bytesOut,
      result.messages.reduce((sum, m) => sum + 5 + m.data.length, 0),
    );
    assert.equal(line.client, "127.0.0.1");
    assert.equal(line.userAgent, "ops-test/1.0");
    assert.ok(typeof line.durationMs === "number" && line.durationMs >= 0);
    for (const secret of ["s3cret-token", "c00kie-value", BODY_MARKER]) {
      assert.ok(!logText.includes(secret), `${secret} is not in the log`);
    }
  });

  test("a failed call logs the backend's code; a refused one logs the proxy's, with no upstream", async () => {
    await call({ headers: { "x-request-id": "req-fail", "x-fail-code": "5" } });
    assert.equal(lineOf("req-fail").grpcCode, "NOT_FOUND");
    assert.equal(lineOf("req-fail").cause, "backend");
    await call({ headers: { "x-request-id": "req-route" } }, "/helloworld.Greeter/No-Such");
    const refused = lineOf("req-route");
    assert.equal(refused.grpcCode, "UNIMPLEMENTED");
    assert.equal(refused.upstream, undefined);
    assert.equal(refused.cause, "route");
    assert.equal(refused.transport, "http/1.1");
  });

  test("a call over WebSocket logs its transport, and so does one refused after the upgrade", async () => {
    for (const method of ["SayHelloBidiStream", "Not-Routed"]) {
      const call = await openWebSocketCall(`${proxy.url}/helloworld.Greeter/${method}`);
      call.sendMetadata({ "content-type": "application/grpc-web+proto" });
      call.sendMessage(hello);
      call.finish();
      await call.result;
    }
    const lineFor = (method: string) =>
      lineOf(`/helloworld.Greeter/${method}`, "path") as { grpcCode: string; transport: string };
    assert.deepEqual(
      [lineFor("SayHelloBidiStream"), lineFor("Not-Routed")].map(({ grpcCode, transport }) => ({
        grpcCode,
        transport,
      })),
      [
        { grpcCode: "OK", transport: "websocket" },
        { grpcCode: "UNIMPLEMENTED", transport: "websocket" },
      ],
    );
  });

  test("a call an interceptor failed on logs the interceptor and what it threw, with its cause", async () => {
    const failing = await startProxy(backend.url, {
      logger: { level: "info", stream },
      interceptors: [
        function checkTenant() {
          throw new Error("tenant lookup failed", { cause: new Error("connect ECONNREFUSED 10.0.0.5:5432") });
        },
      ],
    });
    try {
      const result = await grpcWebCall(failing.url, SAY_HELLO, {
        message: hello,
        headers: { "x-request-id": "req-interceptor" },
      });
      assert.equal(result.grpcMessage, "a call interceptor failed", "the browser is not told why");
    } finally {
      await failing.close();
    }
    const line = lineOf("req-interceptor");
    assert.equal(line.grpcCode, "UNKNOWN");
    assert.equal(line.cause, "interceptor:1 (checkTenant)");
    assert.equal(line.causeError, "tenant lookup failed: connect ECONNREFUSED 10.0.0.5:5432");
  });

  test("a valid incoming x-request-id goes to the backend, back to the browser, and into the log", async () => {
    const id = "4bf92f3577b34da6a3ce929d0e0e4736:span.1/x=y+z";
    const result = await call({ headers: { "x-request-id": id } });
    assert.equal(result.headers["x-request-id"], id);
    await backendSaw(id);
    lineOf(id);
  });

  for (const [name, headers] of [
    ["absent", {}],
    ["with spaces", { "x-request-id": "not a safe id" }],
    ["too long", { "x-request-id": "a".repeat(129) }],
    ["with a newline escape", { "x-request-id": "id%0d%0aforged" }],
  ] as const) {
    test(`an x-request-id ${name} is replaced by a new UUID, the same everywhere`, async () => {
      const result = await call({ headers });
      const id = String(result.headers["x-request-id"]);
      assert.match(id, UUID);
      await backendSaw(id);
      lineOf(id);
    });
  }

  test("every answer carries the id, and CORS exposes it", async () => {
    const refused = await call({ headers: { origin: "http://evil.test" } });
    assert.equal(refused.grpcStatus, 7);
    assert.match(String(refused.headers["x-request-id"]), UUID);
    const allowed = await call({ headers: { origin: "http://app.test", "x-request-id": "cors-1" } });
    assert.equal(allowed.headers["x-request-id"], "cors-1");
    const exposed = String(allowed.headers["access-control-expose-headers"]).split(", ");
    assert.ok(exposed.includes("x-request-id"), exposed.join());
  });

  test("W3C traceparent and tracestate reach the backend untouched", async () => {
    const trace = {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
      "x-request-id": "traced-1",
    };
    assert.equal((await call({ headers: trace })).grpcStatus, 0);
    const seen = await backendSaw("traced-1");
    assert.equal(seen.metadata.traceparent, trace.traceparent);
    assert.equal(seen.metadata.tracestate, trace.tracestate);
  });

  test("in an app of your own with Fastify's request ids, the line adds the x-request-id", async (t) => {
    const app = Fastify({ logger: { level: "info", stream } });
    await app.register(grpcWebProxy, { upstream: backend.url });
    t.after(() => app.close());
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    const result = await grpcWebCall(url, SAY_HELLO, {
      message: hello,
      headers: { "x-request-id": "own-app-1" },
    });
    assert.equal(result.headers["x-request-id"], "own-app-1");
    const line = lineOf("own-app-1", "requestId");
    assert.match(String(line.reqId), /^req-/, "Fastify's own id stays reqId");
  });
});
