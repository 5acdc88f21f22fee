/**
 * Whether the operator asked for traces, read from the standard OpenTelemetry
 * environment variables (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables
 * and .../protocol/exporter). Only on/off and the exporter's wire protocol are
 * decided here, without loading any OpenTelemetry package: the SDK and the
 * exporter read the rest themselves (sampler, endpoint, headers, timeout,
 * compression, batch sizes, resource attributes).
 */

/** OTLP over HTTP, in the two encodings the OpenTelemetry JS exporters speak. */
export type OtlpProtocol = "http/protobuf" | "http/json";

export type OtelTracing =
  | { readonly kind: "off" }
  | { readonly kind: "on"; readonly protocol: OtlpProtocol }
  /** Each problem names its variable, as `--check-config` prints it. */
  | { readonly kind: "invalid"; readonly problems: readonly string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** The spec's default protocol: the collector's OTLP/HTTP port takes both encodings. */
const DEFAULT_PROTOCOL: OtlpProtocol = "http/protobuf";
const PROTOCOLS: readonly string[] = ["http/protobuf", "http/json"] satisfies OtlpProtocol[];

const OFF: OtelTracing = { kind: "off" };

/**
 * Traces are on when an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 * or `OTEL_EXPORTER_OTLP_ENDPOINT`) or `OTEL_TRACES_EXPORTER` names `otlp`
 * (then to the default endpoint, localhost:4318), and off whatever else is
 * set when `OTEL_SDK_DISABLED` is true or `OTEL_TRACES_EXPORTER` is `none`.
 */
export function readOtelTracing(env: Env = process.env): OtelTracing {
  if (value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return OFF;
  const exporters = value(env, "OTEL_TRACES_EXPORTER")
    ?.split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (exporters?.includes("none")) return OFF;
  const problems: string[] = [];
  const others = exporters?.filter((name) => name !== "otlp") ?? [];
  if (others.length > 0) {
    problems.push(
      `OTEL_TRACES_EXPORTER: the proxy exports traces with OTLP only, got ${others.join(", ")} (use otlp or none)`,
    );
  }
  const endpoint =
    value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") !== undefined ||
    value(env, "OTEL_EXPORTER_OTLP_ENDPOINT") !== undefined;
  if (!endpoint && !exporters?.includes("otlp") && problems.length === 0) return OFF;

  const protocolVariable =
    value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") !== undefined
      ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
      : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = value(env, protocolVariable) ?? DEFAULT_PROTOCOL;
  if (!PROTOCOLS.includes(protocol)) {
    problems.push(
      `${protocolVariable}: expected ${PROTOCOLS.join(" or ")}, got "${protocol}"` +
        (protocol === "grpc" ? " (the proxy sends OTLP over HTTP; a collector takes it on port 4318)" : ""),
    );
  }
  if (problems.length > 0) return { kind: "invalid", problems };
  return { kind: "on", protocol: protocol as OtlpProtocol };
}

/** The spec treats an empty variable as unset. */
function value(env: Env, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === "" ? undefined : text;
}
