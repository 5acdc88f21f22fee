import type { OtelTracing } from "./otel-settings.js";
import type { CallTracer, TracingLog } from "./tracer.js";

/**
 * Starts tracing as `readOtelTracing` found it configured. The OpenTelemetry
 * SDK and exporter are loaded here and only here, so a proxy without OTEL_*
 * settings never loads them.
 */
export async function startTracing(
  settings: Extract<OtelTracing, { kind: "on" }>,
  log?: TracingLog,
): Promise<CallTracer> {
  const { startOtelTracer } = await import("./otel-tracer.js");
  return startOtelTracer(settings.protocol, log);
}
