// Spans of real calls: a browser's gRPC-Web call through the proxy to a real backend, the span exported over
// OTLP/HTTP to a real receiver on loopback. The span is the browser span's child, the backend is the span's child
// (it gets the span's traceparent), and the proxy's own refusals have spans too. The CLI traces when OTEL_*
// variables say so, sends the last spans when SIGTERM drains it, and --check-config names a bad OTEL_* variable.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEAD_PORT, waitFor } from "../../testing/net.js";
import { parseCli } from "../src/cli/arguments.js";
import { ProxyOps } from "../src/index.js";
import { Code } from "../src/protocol/status.js";
import { readOtelTracing } from "../src/tracing/otel-settings.js";
import { startTracing } from "../src/tracing/start.js";
import type { CallTracer } from "../src/tracing/tracer.js";
import { type Backend, startBackend } from "./support/backends.js";
import { startCli } from "./support/cli-process.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloRequest } from "./support/hello-messages.js";
import {
  OtlpReceiver,
  type ReceivedSpan,
  STATUS_CODE_ERROR,
  STATUS_CODE_UNSET,
} from "./support/otlp-receiver.js";
import { cliError } from "./support/parse-cli.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const BROWSER_TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const BROWSER_SPAN_ID = "b7ad6b7169203331";
const BROWSER_TRACEPARENT = `00-${BROWSER_TRACE_ID}-${BROWSER_SPAN_ID}-01`;
const ORIGIN = "http://app.test";

describe("call spans, end to end", () => {
  let receiver: OtlpReceiver;
  let backend: Backend;
  let tracer: CallTracer;
  let proxy: RunningProxy;
  let unreachable: RunningProxy;
  const savedEnv = { ...process.env };

  before(async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    backend = await startBackend("connect-node");
    // The exporter reads its endpoint from the environment when it is made, as the CLI's would.
    process.env = {
      ...savedEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    };
    const settings = readOtelTracing(process.env);
    assert.equal(settings.kind, "on");
    tracer = await startTracing(settings as Extract<typeof settings, { kind: "on" }>);
    process.env = { ...savedEnv };
    const ops = new ProxyOps({ processMetrics: false, tracer });
    proxy = await startProxy(backend.url, { ops, allowedOrigins: [ORIGIN] });
    unreachable = await startProxy(`http://127.0.0.1:${DEAD_PORT}`, { ops, allowedOrigins: [ORIGIN] });
  });
  after(async () => {
    await proxy?.close();
    await unreachable?.close();
    await tracer?.shutdown();
    await backend?.close();
    await receiver?.close();
  });

  /** The span of the trace, once it has arrived (the exporter sends in batches). */
  const spanOfTrace = (traceId: string): Promise<ReceivedSpan> =>
    waitFor(() => receiver.spans.find((span) => span.traceId === traceId), 15_000);

  test("a call's span is the browser span's child, and the backend's parent", async () => {
    const result = await grpcWebCall(proxy.url, SAY_HELLO, {
      message: helloRequest("trace"),
      headers: {
        origin: ORIGIN,
        traceparent: BROWSER_TRACEPARENT,
        tracestate: "vendor=opaque",
        "x-request-id": "traced-1",
      },
    });
    assert.equal(result.grpcStatus, Code.OK);
    const seen = await backend.waitFor(
      (o) => o.event === "started" && o.metadata["x-request-id"] === "traced-1",
    );
    const span = await spanOfTrace(BROWSER_TRACE_ID);
    assert.equal(span.parentSpanId, BROWSER_SPAN_ID, "the browser's span is the parent");
    assert.equal(
      seen.metadata.traceparent,
      `00-${BROWSER_TRACE_ID}-${span.spanId}-01`,
      "the backend's parent is the proxy's span, in the same trace",
    );
    assert.equal(seen.metadata.tracestate, "vendor=opaque", "tracestate passes on as it came");
    assert.equal(span.name, "helloworld.Greeter/SayHello");
    assert.deepEqual(Object.fromEntries(span.attributes), {
      "rpc.system": "grpc",
      "rpc.service": "helloworld.Greeter",
      "rpc.method": "SayHello",
      "rpc.grpc.status_code": Code.OK,
      "server.address": "127.0.0.1",
      "server.port": backend.port,
      "grpc_web.transport": "http/1.1",
      "grpc_web.upstream": "default",
      "grpc_web.cause": "backend",
      "grpc_web.request.bytes": 5 + helloRequest("trace").length,
      "grpc_web.response.bytes": result.messages.reduce((sum, m) => sum + 5 + m.data.length, 0),
    });
    assert.deepEqual(span.events, ["response_started", "end"]);
    assert.deepEqual(span.status, { code: STATUS_CODE_UNSET, message: "" });
  });

  test("a call without a traceparent starts a trace, which the backend joins", async () => {
    await grpcWebCall(proxy.url, SAY_HELLO, {
      message: helloRequest("root"),
      headers: { origin: ORIGIN, "x-request-id": "traced-root" },
    });
    const seen = await backend.waitFor(
      (o) => o.event === "started" && o.metadata["x-request-id"] === "traced-root",
    );
    const [, traceId, spanId] =
      /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen.metadata.traceparent ?? "") ?? [];
    assert.ok(traceId, `the backend got a sampled traceparent: ${seen.metadata.traceparent}`);
    const span = await spanOfTrace(traceId);
    assert.equal(span.spanId, spanId);
    assert.equal(span.parentSpanId, "", "a root span");
  });

  test("the backend's error is the span's status, with its message", async () => {
    const traceId = "1af7651916cd43dd8448eb211c80319c";
    const result = await grpcWebCall(proxy.url, SAY_HELLO, {
      message: helloRequest("fail"),
      headers: {
        origin: ORIGIN,
        traceparent: `00-${traceId}-${BROWSER_SPAN_ID}-01`,
        "x-fail-code": String(Code.NOT_FOUND),
        "x-fail-message": "no such greeting",
      },
    });
    assert.equal(result.grpcStatus, Code.NOT_FOUND);
    const span = await spanOfTrace(traceId);
    assert.deepEqual(span.status, { code: STATUS_CODE_ERROR, message: "no such greeting" });
    assert.equal(span.attributes.get("rpc.grpc.status_code"), Code.NOT_FOUND);
    assert.equal(span.attributes.get("error.type"), "NOT_FOUND");
    assert.equal(span.attributes.get("grpc_web.cause"), "backend");
  });

  test("a call to an upstream that is down: UNAVAILABLE, the cause, no response event", async () => {
    const traceId = "2af7651916cd43dd8448eb211c80319c";
    const result = await grpcWebCall(unreachable.url, SAY_HELLO, {
      message: helloRequest("down"),
      headers: { origin: ORIGIN, traceparent: `00-${traceId}-${BROWSER_SPAN_ID}-01` },
    });
    assert.equal(result.grpcStatus, Code.UNAVAILABLE);
    const span = await spanOfTrace(traceId);
    assert.equal(span.parentSpanId, BROWSER_SPAN_ID);
    assert.equal(span.status.code, STATUS_CODE_ERROR);
    assert.equal(span.status.message, result.grpcMessage);
    assert.equal(span.attributes.get("grpc_web.cause"), "upstream_failure");
    assert.equal(span.attributes.get("server.port"), DEAD_PORT);
    assert.deepEqual(span.events, ["end"]);
  });

  test("a call the proxy refuses has a span too, without an upstream", async () => {
    const traceId = "3af7651916cd43dd8448eb211c80319c";
    const result = await grpcWebCall(proxy.url, SAY_HELLO, {
      message: helloRequest("refused"),
      headers: { origin: "http://evil.test", traceparent: `00-${traceId}-${BROWSER_SPAN_ID}-01` },
    });
    assert.equal(result.grpcStatus, Code.PERMISSION_DENIED);
    const span = await spanOfTrace(traceId);
    assert.equal(span.parentSpanId, BROWSER_SPAN_ID);
    assert.equal(span.attributes.get("grpc_web.cause"), "cors");
    assert.equal(span.attributes.has("grpc_web.upstream"), false);
    assert.equal(span.attributes.has("server.address"), false);
    assert.deepEqual(span.status, {
      code: STATUS_CODE_ERROR,
      message: "origin http://evil.test is not allowed",
    });
  });
});

describe("the CLI's traces", () => {
  test("on with OTEL_EXPORTER_OTLP_ENDPOINT; SIGTERM's drain sends the spans not yet exported", async () => {
    const receiver = new OtlpReceiver();
    const endpoint = await receiver.start();
    const backend = await startBackend("connect-node");
    try {
      const cli = await startCli(["--upstream", backend.url], {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_SERVICE_NAME: "edge-proxy",
        // No export on the batch's schedule: only the shutdown can have sent the span.
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      });
      const result = await grpcWebCall(cli.url, SAY_HELLO, {
        message: helloRequest("cli"),
        headers: { traceparent: BROWSER_TRACEPARENT },
      });
      assert.equal(result.grpcStatus, Code.OK);
      assert.equal(receiver.spans.length, 0, "nothing exported while the batch waits");
      cli.child.kill("SIGTERM");
      assert.equal(await cli.exited, 0, cli.log());
      assert.equal(receiver.spans.length, 1, cli.log());
      const [span] = receiver.spans as [ReceivedSpan];
      assert.equal(span.traceId, BROWSER_TRACE_ID);
      assert.equal(span.parentSpanId, BROWSER_SPAN_ID);
      assert.equal(span.serviceName, "edge-proxy");
      assert.ok(
        receiver.contentTypes.every((type) => type === "application/x-protobuf"),
        "protobuf by default",
      );
    } finally {
      await backend.close();
      await receiver.close();
    }
  });

  test("--check-config names a bad OTEL_* variable, and says when traces are on", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "bridge-otel-")), "bridge.yaml");
    await writeFile(file, "upstream: http://127.0.0.1:50051\n");
    const problem = cliError(["--check-config", file], {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    });
    assert.match(
      problem,
      /^\$OTEL_EXPORTER_OTLP_PROTOCOL: expected http\/protobuf or http\/json, got "grpc" \(the proxy sends OTLP over HTTP/,
    );
    const checked = parseCli(["--check-config", file], {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
    });
    assert.equal(checked.kind, "checked");
    assert.equal(
      (checked as { summary: string }).summary,
      `${file}: valid; every call goes to http://127.0.0.1:50051; traces over OTLP http/protobuf`,
    );
  });
});
