// /metrics after real calls through the proxy to a real backend, over HTTP and over WebSocket: the counts,
// codes, modes, transports, bytes and messages are the ones the test sent and received.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { type Backend, startBackend } from "./support/backends.js";
import { frame } from "./support/chunks.js";
import { type GrpcWebResult, grpcWebCall } from "./support/grpc-web-client.js";
import { type ObservedProxy, sample, scrape, startObservedProxy } from "./support/ops-admin.js";
import { openWebSocketCall } from "./support/websocket-call.js";

const SERVICE = "helloworld.Greeter";
const SAY_HELLO = `/${SERVICE}/SayHello`;
const STREAM = `/${SERVICE}/SayHelloStreamReply`;
const MAX_MESSAGE_BYTES = 1024;
const hello = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "Ada" }));
const helloFrameBytes = 5 + hello.length;

/** gRPC-framed bytes of the messages a result carried. */
function frameBytes(results: GrpcWebResult[]): number {
  return results.flatMap((r) => r.messages).reduce((sum, m) => sum + 5 + m.data.length, 0);
}

describe("/metrics", () => {
  let backend: Backend;
  let proxy: ObservedProxy;
  before(async () => {
    backend = await startBackend("connect-node");
    proxy = await startObservedProxy(backend.url, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      allowedOrigins: ["http://app.test"],
    });
  });
  after(async () => {
    await proxy?.close();
    await backend?.close();
  });

  test("calls by method, mode and code, with their messages, bytes and durations", async () => {
    const call = (path: string, options: Parameters<typeof grpcWebCall>[2] = {}) =>
      grpcWebCall(proxy.url, path, { message: hello, ...options });
    const binaryOk = await Promise.all([call(SAY_HELLO), call(SAY_HELLO), call(SAY_HELLO)]);
    const textOk = await Promise.all([call(SAY_HELLO, { text: true }), call(SAY_HELLO, { text: true })]);
    const notFound = await Promise.all([
      call(SAY_HELLO, { headers: { "x-fail-code": "5" } }),
      call(SAY_HELLO, { headers: { "x-fail-code": "5" } }),
    ]);
    const stream = await call(STREAM, { headers: { "x-stream-count": "4" } });
    assert.deepEqual(
      [...binaryOk, ...textOk, ...notFound, stream].map((r) => r.grpcStatus),
      [0, 0, 0, 0, 0, 5, 5, 0],
    );
    assert.equal(stream.messages.length, 4);

    const metrics = await scrape(proxy.adminUrl);
    const get = (name: string, labels: Record<string, string>) =>
      metrics.get(sample(`grpc_web_bridge_${name}`, labels));
    const binary = { service: SERVICE, method: "SayHello", mode: "binary", transport: "http" };
    const text = { ...binary, mode: "text" };
    const streamBinary = { ...binary, method: "SayHelloStreamReply" };

    assert.equal(get("calls_started_total", binary), 5);
    assert.equal(get("calls_started_total", text), 2);
    assert.equal(get("calls_started_total", streamBinary), 1);
    assert.equal(get("calls_finished_total", { ...binary, code: "OK" }), 3);
    assert.equal(get("calls_finished_total", { ...binary, code: "NOT_FOUND" }), 2);
    assert.equal(get("calls_finished_total", { ...text, code: "OK" }), 2);
    assert.equal(get("calls_finished_total", { ...streamBinary, code: "OK" }), 1);
    assert.equal(
      get("calls_started_total", { ...streamBinary, mode: "text" }),
      undefined,
      "no unused series",
    );

    assert.equal(get("request_messages_total", binary), 5);
    assert.equal(get("request_bytes_total", binary), 5 * helloFrameBytes);
    assert.equal(get("request_bytes_total", text), 2 * helloFrameBytes, "text mode counts decoded bytes");
    assert.equal(get("response_messages_total", binary), 3);
    assert.equal(get("response_messages_total", streamBinary), 4);
    assert.equal(get("response_bytes_total", binary), frameBytes([...binaryOk, ...notFound]));
    assert.equal(get("response_bytes_total", text), frameBytes(textOk));
    assert.equal(get("response_bytes_total", streamBinary), frameBytes([stream]));

    assert.equal(get("call_duration_seconds_count", binary), 5);
    assert.equal(get("call_duration_seconds_bucket", { le: "+Inf", ...binary }), 5);
    assert.equal(get("call_first_byte_seconds_count", streamBinary), 1);
    const seconds = get("call_duration_seconds_sum", streamBinary) ?? 0;
    assert.ok(seconds > 0 && seconds < 5, `stream took ${seconds} s`);

    assert.equal(get("active_calls", {}), 0);
    const upstream = "default";
    assert.equal(get("upstream_streams", { upstream }), 0);
    assert.equal(get("upstream_sessions", { upstream, state: "connected" }), 1);
    assert.ok(metrics.has("process_cpu_user_seconds_total"), "process metrics");
    assert.ok(metrics.has("nodejs_eventloop_lag_seconds"), "Node.js metrics");
  });

  test('a call over WebSocket is counted with transport="websocket", apart from HTTP calls', async () => {
    const call = await openWebSocketCall(`${proxy.url}/${SERVICE}/SayHelloBidiStream`);
    call.sendMetadata({ "content-type": "application/grpc-web+proto", "x-grpc-web": "1" });
    call.sendMessage(hello);
    call.sendMessage(hello);
    call.finish();
    const result = await call.result;
    assert.equal(result.trailers?.["grpc-status"], "0");
    assert.equal(result.messages.length, 2);

    const metrics = await scrape(proxy.adminUrl);
    const get = (name: string, labels: Record<string, string>) =>
      metrics.get(sample(`grpc_web_bridge_${name}`, labels));
    const bidi = { service: SERVICE, method: "SayHelloBidiStream", mode: "binary" };
    const websocket = { ...bidi, transport: "websocket" };
    assert.equal(get("calls_finished_total", { ...websocket, code: "OK" }), 1);
    assert.equal(get("calls_finished_total", { ...bidi, transport: "http", code: "OK" }), undefined);
    assert.equal(get("request_bytes_total", websocket), 2 * helloFrameBytes);
    assert.equal(get("response_messages_total", websocket), 2);
    assert.equal(get("call_duration_seconds_count", websocket), 1);
  });

  test("active calls and upstream streams while a stream is in flight", async () => {
    const controller = new AbortController();
    const stream = grpcWebCall(proxy.url, STREAM, {
      message: hello,
      headers: { "x-stream-count": "50", "x-stream-interval-ms": "100" },
      signal: controller.signal,
    }).catch(() => undefined);
    await backend.waitFor((o) => o.method === "SayHelloStreamReply" && o.metadata["x-stream-count"] === "50");
    const metrics = await scrape(proxy.adminUrl);
    assert.equal(metrics.get("grpc_web_bridge_active_calls"), 1);
    const upstream = "default";
    assert.equal(metrics.get(sample("grpc_web_bridge_upstream_streams", { upstream })), 1);
    controller.abort();
    await stream;
  });

  test("requests the proxy answers itself are counted by reason", async () => {
    const rejected = async () => {
      const metrics = await scrape(proxy.adminUrl);
      return (reason: string) => metrics.get(sample("grpc_web_bridge_rejected_requests_total", { reason }));
    };
    const before = await rejected();
    const evil = { origin: "http://evil.test" };
    const answers = await Promise.all([
      grpcWebCall(proxy.url, SAY_HELLO, { message: hello, headers: evil }),
      grpcWebCall(proxy.url, SAY_HELLO, {
        method: "OPTIONS",
        headers: { ...evil, "access-control-request-method": "POST" },
      }),
      grpcWebCall(proxy.url, SAY_HELLO, { message: hello, contentType: "application/json" }),
      grpcWebCall(proxy.url, `/${SERVICE}/Say-Hello`, { message: hello }),
      grpcWebCall(proxy.url, SAY_HELLO, { method: "GET" }),
      grpcWebCall(proxy.url, SAY_HELLO, { body: frame(0, Buffer.alloc(MAX_MESSAGE_BYTES + 1)) }),
      grpcWebCall(proxy.url, SAY_HELLO, { body: frame(0x80, "grpc-status:0\r\n") }),
    ]);
    assert.deepEqual(
      answers.map((a) => a.grpcStatus ?? a.status),
      [7, 403, 415, 12, 405, 8, 13],
    );
    const now = await rejected();
    const delta = (reason: string) => (now(reason) ?? 0) - (before(reason) ?? 0);
    assert.deepEqual(
      ["cors", "content_type", "route", "limit", "malformed", "draining"].map(delta),
      [2, 1, 2, 1, 1, 0],
    );
  });

  test("health and metrics are not served on the public port", async () => {
    for (const path of ["/metrics", "/healthz", "/readyz"]) {
      const response = await fetch(proxy.url + path);
      assert.equal(response.status, 404, path);
      await response.arrayBuffer();
    }
  });
});
