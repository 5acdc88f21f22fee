import {
  type Attributes,
  type DiagLogger,
  DiagLogLevel,
  defaultTextMapGetter,
  diag,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
} from "@opentelemetry/semantic-conventions";
import { Code, codeName } from "../protocol/status.js";
import type { OtlpProtocol } from "./otel-settings.js";
import type { CallSpan, CallTracer, SpanEnding, TracedCall, TracingLog } from "./tracer.js";

// The RPC conventions are still "development" in @opentelemetry/semantic-conventions, whose advice is to copy
// such names rather than import its unstable entry point.
const ATTR_RPC_SYSTEM = "rpc.system";
const ATTR_RPC_SERVICE = "rpc.service";
const ATTR_RPC_METHOD = "rpc.method";
const ATTR_RPC_GRPC_STATUS_CODE = "rpc.grpc.status_code";
/** No convention names the protocol between the browser and a gRPC-Web proxy. */
export const ATTR_TRANSPORT = "grpc_web.transport";
export const ATTR_UPSTREAM = "grpc_web.upstream";
export const ATTR_CAUSE = "grpc_web.cause";
export const ATTR_BYTES_IN = "grpc_web.request.bytes";
export const ATTR_BYTES_OUT = "grpc_web.response.bytes";
export const EVENT_RESPONSE_STARTED = "response_started";
export const EVENT_END = "end";

/** What `service.name` is when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one. */
export const DEFAULT_SERVICE_NAME = "grpc-web-bridge";
const TRACER_NAME = "grpc-web-bridge";

/**
 * A tracer provider of its own, not the process-wide one: a host app that
 * embeds the plugin keeps its own OpenTelemetry setup untouched.
 */
export async function startOtelTracer(
  protocol: OtlpProtocol,
  log: TracingLog | undefined,
): Promise<CallTracer> {
  if (log) diag.setLogger(diagLogger(log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  // Each exporter reads OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION,...} itself.
  const { OTLPTraceExporter } =
    protocol === "http/json"
      ? await import("@opentelemetry/exporter-trace-otlp-http")
      : await import("@opentelemetry/exporter-trace-otlp-proto");
  const provider = new BasicTracerProvider({
    // Later wins: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over the proxy's own name.
    resource: defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME }))
      .merge(detectResources({ detectors: [envDetector] })),
    // The sampler comes from OTEL_TRACES_SAMPLER and _ARG (default: parent-based, always on);
    // the batches from OTEL_BSP_*.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  return new OtelCallTracer(provider, log);
}

class OtelCallTracer implements CallTracer {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #log: TracingLog | undefined;

  constructor(provider: BasicTracerProvider, log: TracingLog | undefined) {
    this.#provider = provider;
    this.#tracer = provider.getTracer(TRACER_NAME);
    this.#log = log;
  }

  startCall(call: TracedCall): CallSpan {
    const { path } = call;
    const slash = path.lastIndexOf("/");
    const parent = this.#propagator.extract(ROOT_CONTEXT, call.headers, defaultTextMapGetter);
    const attributes: Attributes = { [ATTR_RPC_SYSTEM]: "grpc", [ATTR_TRANSPORT]: call.transport };
    // A call refused for its path may have no service in it, and one refused before routing has no upstream
    // (the SDK warns of an undefined attribute).
    if (slash > 0) {
      attributes[ATTR_RPC_SERVICE] = path.slice(1, slash);
      attributes[ATTR_RPC_METHOD] = path.slice(slash + 1);
    }
    if (call.upstream !== undefined) attributes[ATTR_UPSTREAM] = call.upstream;
    // The proxy's side of the call is a client of the backend, which sees this span as its parent.
    const span = this.#tracer.startSpan(path.slice(1), { kind: SpanKind.CLIENT, attributes }, parent);
    return new OtelCallSpan(span);
  }

  async shutdown(): Promise<void> {
    try {
      await this.#provider.shutdown();
    } catch (error) {
      // A collector that is down must not fail the proxy's own shutdown.
      this.#log?.error({ err: error }, "OpenTelemetry: the last spans could not be exported");
    }
    if (this.#log) diag.disable();
  }
}

class OtelCallSpan implements CallSpan {
  readonly #span: Span;
  readonly traceparent: string;

  constructor(span: Span) {
    this.#span = span;
    const { traceId, spanId, traceFlags } = span.spanContext();
    // W3C trace context, version 00, formatted here: the propagator's inject would build a context and a carrier
    // object per call for the same string.
    this.traceparent = `00-${traceId}-${spanId}-${traceFlags < 16 ? "0" : ""}${traceFlags.toString(16)}`;
  }

  sentTo(address: URL): void {
    // server.address is the bare host: an IPv6 address without the URL's brackets.
    this.#span.setAttribute(ATTR_SERVER_ADDRESS, address.hostname.replace(/^\[(.*)\]$/, "$1"));
    this.#span.setAttribute(
      ATTR_SERVER_PORT,
      address.port === "" ? defaultPort(address) : Number(address.port),
    );
  }

  responseStarted(): void {
    this.#span.addEvent(EVENT_RESPONSE_STARTED);
  }

  end(ending: SpanEnding): void {
    const span = this.#span;
    // A span the sampler dropped records nothing: build nothing for it.
    if (span.isRecording()) {
      const { code } = ending;
      const attributes: Attributes = {
        [ATTR_RPC_GRPC_STATUS_CODE]: code,
        [ATTR_BYTES_IN]: ending.bytesIn,
        [ATTR_BYTES_OUT]: ending.bytesOut,
      };
      if (ending.cause !== undefined) attributes[ATTR_CAUSE] = ending.cause;
      if (code !== Code.OK) {
        attributes[ATTR_ERROR_TYPE] = codeName(code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: ending.message ?? codeName(code) });
      }
      span.setAttributes(attributes);
      span.addEvent(EVENT_END);
    }
    span.end();
  }
}

/** A URL leaves out its scheme's default port. */
function defaultPort(address: URL): number {
  return address.protocol === "https:" ? 443 : 80;
}

function diagLogger(log: TracingLog): DiagLogger {
  const ignore = (): void => {};
  return {
    error: (message, ...args) => log.error({ details: args }, `OpenTelemetry: ${message}`),
    warn: (message, ...args) => log.warn({ details: args }, `OpenTelemetry: ${message}`),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
}
