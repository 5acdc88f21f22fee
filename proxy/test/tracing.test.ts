// A span per call, exported over OTLP/HTTP to a receiver in the test that decodes what it gets (JSON, and protobuf
// read field by field), and no OpenTelemetry package loaded while no OTEL_* variable asks for traces.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { Code } from "../src/protocol/status.js";
import { readOtelTracing } from "../src/tracing/otel-settings.js";
import { startTracing } from "../src/tracing/start.js";
import type { CallTracer, TracingLog } from "../src/tracing/tracer.js";
import { packagesLoadedBy, sourceUrl } from "./support/load-probe.js";
import {
  OtlpReceiver,
  type ReceivedSpan,
  SPAN_KIND_CLIENT,
  STATUS_CODE_ERROR,
  STATUS_CODE_UNSET,
} from "./support/otlp-receiver.js";

const BROWSER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const BROWSER_SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/;

describe("readOtelTracing", () => {
  test("is off without OTEL_* settings, and when the SDK or the traces exporter is disabled", () => {
    assert.deepEqual(readOtelTracing({}), { kind: "off" });
    assert.deepEqual(readOtelTracing({ OTEL_SERVICE_NAME: "edge", OTEL_TRACES_SAMPLER: "always_on" }), {
      kind: "off",
    });
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    assert.deepEqual(readOtelTracing({ ...endpoint, OTEL_SDK_DISABLED: "TRUE" }), { kind: "off" });
    assert.deepEqual(readOtelTracing({ ...endpoint, OTEL_TRACES_EXPORTER: "none" }), { kind: "off" });
    assert.deepEqual(readOtelTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: " " }), { kind: "off" });
  });

  test("is on with an endpoint, or with otlp named as the exporter; protobuf unless JSON is asked for", () => {
    const on = { kind: "on", protocol: "http/protobuf" };
    assert.deepEqual(readOtelTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), on);
    assert.deepEqual(readOtelTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }), on);
    assert.deepEqual(readOtelTracing({ OTEL_TRACES_EXPORTER: "otlp" }), on);
    assert.deepEqual(
      readOtelTracing({
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      }),
      { kind: "on", protocol: "http/json" },
    );
  });

  test("names the variable of each problem", () => {
    assert.deepEqual(
      readOtelTracing({ OTEL_TRACES_EXPORTER: "otlp,console", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
      {
        kind: "invalid",
        problems: [
          "OTEL_TRACES_EXPORTER: the proxy exports traces with OTLP only, got console (use otlp or none)",
          'OTEL_EXPORTER_OTLP_PROTOCOL: expected http/protobuf or http/json, got "grpc" (the proxy sends OTLP over HTTP; a collector takes it on port 4318)',
        ],
      },
    );
    assert.deepEqual(readOtelTracing({ OTEL_TRACES_EXPORTER: "zipkin" }), {
      kind: "invalid",
      problems: [
        "OTEL_TRACES_EXPORTER: the proxy exports traces with OTLP only, got zipkin (use otlp or none)",
      ],
    });
  });
});

describe("call spans over OTLP/HTTP", () => {
  let receiver: OtlpReceiver;
  let endpoint: string;
  let tracer: CallTracer | undefined;
  const savedEnv = { ...process.env };

  before(async () => {
    receiver = new OtlpReceiver();
    endpoint = await receiver.start();
  });
  afterEach(async () => {
    await tracer?.shutdown();
    tracer = undefined;
    receiver.spans.length = 0;
    receiver.contentTypes.length = 0;
    receiver.status = 200;
    process.env = { ...savedEnv };
  });
  after(() => receiver.close());

  /** Starts tracing as the CLI would, from the environment (the exporter reads its endpoint there too). */
  async function startFromEnv(env: NodeJS.ProcessEnv, log?: TracingLog): Promise<CallTracer> {
    process.env = { ...savedEnv, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env };
    const settings = readOtelTracing(process.env);
    assert.equal(settings.kind, "on");
    tracer = await startTracing(settings as Extract<typeof settings, { kind: "on" }>, log);
    return tracer;
  }

  for (const protocol of ["http/json", "http/protobuf"] as const) {
    test(`${protocol}: a call's span is the browser's span's child, with the RPC attributes, events and status`, async () => {
      const tracing = await startFromEnv({
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: "edge",
      });
      const failed = tracing.startCall({
        path: "/helloworld.Greeter/SayHello",
        headers: { traceparent: `00-${BROWSER_TRACE_ID}-${BROWSER_SPAN_ID}-01`, tracestate: "vendor=1" },
        transport: "h2",
        upstream: "greeter",
      });
      const sent = TRACEPARENT.exec(failed.traceparent);
      assert.ok(sent, failed.traceparent);
      assert.equal(sent[1], BROWSER_TRACE_ID, "the trace goes on upstream");
      assert.notEqual(sent[2], BROWSER_SPAN_ID, "the backend's parent is the proxy's span");
      assert.equal(sent[3], "1", "sampled, as the browser's span was");
      failed.sentTo(new URL("http://127.0.0.1:50051"));
      failed.responseStarted();
      failed.end({
        code: Code.UNAVAILABLE,
        message: "upstream unavailable: ECONNRESET",
        bytesIn: 12,
        bytesOut: 5,
      });

      const fine = tracing.startCall({
        path: "/grpc.health.v1.Health/Check",
        headers: {},
        transport: "http/1.1",
        upstream: "health",
      });
      fine.sentTo(new URL("https://[::1]"));
      fine.end({ code: Code.OK, bytesIn: 0, bytesOut: 7, cause: "ok" });
      await tracing.shutdown();
      tracer = undefined;

      assert.ok(
        receiver.contentTypes.every(
          (type) => type === (protocol === "http/json" ? "application/json" : "application/x-protobuf"),
        ),
        receiver.contentTypes.join(),
      );
      assert.equal(receiver.spans.length, 2);
      const [child, root] = receiver.spans as [ReceivedSpan, ReceivedSpan];
      assert.deepEqual(
        { ...child, attributes: Object.fromEntries(child.attributes) },
        {
          traceId: BROWSER_TRACE_ID,
          spanId: sent[2],
          parentSpanId: BROWSER_SPAN_ID,
          name: "helloworld.Greeter/SayHello",
          kind: SPAN_KIND_CLIENT,
          attributes: {
            "rpc.system": "grpc",
            "rpc.service": "helloworld.Greeter",
            "rpc.method": "SayHello",
            "rpc.grpc.status_code": Code.UNAVAILABLE,
            "server.address": "127.0.0.1",
            "server.port": 50051,
            "grpc_web.transport": "h2",
            "grpc_web.upstream": "greeter",
            "grpc_web.request.bytes": 12,
            "grpc_web.response.bytes": 5,
            "error.type": "UNAVAILABLE",
          },
          events: ["response_started", "end"],
          status: { code: STATUS_CODE_ERROR, message: "upstream unavailable: ECONNRESET" },
          serviceName: "edge",
        },
      );
      assert.equal(root.parentSpanId, "", "no traceparent: a root span");
      assert.notEqual(root.traceId, BROWSER_TRACE_ID);
      assert.deepEqual(root.status, { code: STATUS_CODE_UNSET, message: "" }, "OK leaves the status unset");
      assert.equal(root.attributes.get("rpc.grpc.status_code"), Code.OK);
      assert.equal(root.attributes.get("server.address"), "::1");
      assert.equal(root.attributes.get("grpc_web.transport"), "http/1.1");
      assert.equal(root.attributes.get("grpc_web.cause"), "ok");
      assert.equal(root.attributes.has("error.type"), false);
      assert.deepEqual(root.events, ["end"]);
    });
  }

  test("the service is named grpc-web-bridge unless OTEL_SERVICE_NAME says otherwise", async () => {
    const tracing = await startFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    tracing
      .startCall({ path: "/a.B/C", headers: {}, transport: "websocket", upstream: "b" })
      .end({ code: Code.OK, bytesIn: 0, bytesOut: 0 });
    await tracing.shutdown();
    tracer = undefined;
    assert.equal(receiver.spans[0]?.serviceName, "grpc-web-bridge");
    assert.equal(receiver.spans[0]?.attributes.get("grpc_web.transport"), "websocket");
  });

  test("a call refused before routing has no upstream, and one with a path that is not a method no service", async () => {
    const warnings: string[] = [];
    const log: TracingLog = {
      warn: (_fields, message) => warnings.push(message),
      error: (_fields, message) => warnings.push(message),
    };
    const tracing = await startFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, log);
    for (const path of ["/a.B/C", "/favicon.ico"]) {
      tracing.startCall({ path, headers: {}, transport: "http/1.1", upstream: undefined }).end({
        code: Code.UNIMPLEMENTED,
        message: `no route for ${path}`,
        bytesIn: 0,
        bytesOut: 0,
        cause: "route",
      });
    }
    await tracing.shutdown();
    tracer = undefined;
    assert.deepEqual(
      receiver.spans.map((span) => ({ name: span.name, attributes: Object.fromEntries(span.attributes) })),
      ["a.B/C", "favicon.ico"].map((name) => ({
        name,
        attributes: {
          "rpc.system": "grpc",
          ...(name === "a.B/C" && { "rpc.service": "a.B", "rpc.method": "C" }),
          "grpc_web.transport": "http/1.1",
          "rpc.grpc.status_code": Code.UNIMPLEMENTED,
          "grpc_web.request.bytes": 0,
          "grpc_web.response.bytes": 0,
          "grpc_web.cause": "route",
          "error.type": "UNIMPLEMENTED",
        },
      })),
    );
    assert.deepEqual(warnings, []);
  });

  test("a browser span that was not sampled is not sampled here either, and its trace still goes upstream", async () => {
    const tracing = await startFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    const span = tracing.startCall({
      path: "/a.B/C",
      headers: { traceparent: `00-${BROWSER_TRACE_ID}-${BROWSER_SPAN_ID}-00` },
      transport: "http/1.1",
      upstream: "b",
    });
    const sent = TRACEPARENT.exec(span.traceparent);
    assert.equal(sent?.[1], BROWSER_TRACE_ID);
    assert.equal(sent?.[3], "0");
    span.end({ code: Code.OK, bytesIn: 0, bytesOut: 0 });
    await tracing.shutdown();
    tracer = undefined;
    assert.deepEqual(receiver.spans, []);
  });

  test("OTEL_TRACES_SAMPLER=always_off records nothing; a malformed traceparent starts a new trace", async () => {
    const tracing = await startFromEnv({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_TRACES_SAMPLER: "always_off",
    });
    const span = tracing.startCall({
      path: "/a.B/C",
      headers: { traceparent: `00-${BROWSER_TRACE_ID}-not-a-span-id-01` },
      transport: "http/1.1",
      upstream: "b",
    });
    const sent = TRACEPARENT.exec(span.traceparent);
    assert.ok(sent, span.traceparent);
    assert.notEqual(sent[1], BROWSER_TRACE_ID);
    assert.equal(sent[3], "0");
    span.end({ code: Code.INTERNAL, bytesIn: 0, bytesOut: 0 });
    await tracing.shutdown();
    tracer = undefined;
    assert.deepEqual(receiver.spans, []);
  });

  test("an export the receiver refuses is logged, and so are the last spans at shutdown", async () => {
    const logged: string[] = [];
    let exportFailed: () => void = () => {};
    const failed = new Promise<void>((resolve) => (exportFailed = resolve));
    const log: TracingLog = {
      warn: (_fields, message) => logged.push(`warn ${message}`),
      error: (_fields, message) => {
        logged.push(`error ${message}`);
        exportFailed();
      },
    };
    receiver.status = 400;
    const tracing = await startFromEnv(
      { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "1" },
      log,
    );
    const call = () =>
      tracing
        .startCall({ path: "/a.B/C", headers: {}, transport: "http/1.1", upstream: "b" })
        .end({ code: Code.OK, bytesIn: 0, bytesOut: 0 });
    call();
    await failed;
    assert.match(logged[0] ?? "", /^error OpenTelemetry: .*Bad Request/);
    call();
    await tracing.shutdown();
    tracer = undefined;
    assert.deepEqual(receiver.spans, []);
    assert.equal(logged.at(-1), "error OpenTelemetry: the last spans could not be exported");
  });
});

describe("loading", () => {
  const settings = JSON.stringify(sourceUrl("tracing/otel-settings.ts"));
  const start = JSON.stringify(sourceUrl("tracing/start.ts"));
  const startIfOn = `
    const { readOtelTracing } = await import(${settings});
    const { startTracing } = await import(${start});
    await import(${JSON.stringify(sourceUrl("index.ts"))});
    const tracing = readOtelTracing(process.env);
    if (tracing.kind === "on") await (await startTracing(tracing)).shutdown();
  `;
  /** prom-client loads @opentelemetry/api for its exemplars whether traces are on or not. */
  const sdkPackages = (loaded: Set<string>) =>
    [...loaded].filter((name) => name.startsWith("@opentelemetry/") && name !== "@opentelemetry/api");

  test("without OTEL_* settings, neither the library entry nor the tracing module loads the SDK", async () => {
    assert.deepEqual(sdkPackages(await packagesLoadedBy(startIfOn)), []);
  });

  test("with an endpoint, starting tracing loads the SDK and the protocol's exporter only", async () => {
    const loaded = sdkPackages(
      await packagesLoadedBy(startIfOn, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" }),
    );
    assert.ok(loaded.includes("@opentelemetry/sdk-trace-base"), loaded.join());
    assert.ok(loaded.includes("@opentelemetry/exporter-trace-otlp-proto"), loaded.join());
    assert.ok(!loaded.includes("@opentelemetry/exporter-trace-otlp-http"), loaded.join());
  });
});
