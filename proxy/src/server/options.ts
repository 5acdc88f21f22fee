import type { ProxyOps } from "../ops/ops.js";

/** Options of the Fastify plugin; the CLI and config file map onto these. */
export interface GrpcWebProxyOptions {
  /** The backend: `http://host:port` (h2c) or `https://host:port`. */
  readonly upstream: string | URL;
  /** Browser origins allowed to call, or `["*"]` for any; default: same-origin only. */
  readonly allowedOrigins?: readonly string[];
  /** Clamp for the client's `grpc-timeout`, in ms; default: no clamp. */
  readonly maxTimeoutMs?: number;
  /** Largest request message accepted, in bytes; default 4 MiB, as gRPC's own default. */
  readonly maxMessageBytes?: number;
  /**
   * Readiness asks the backend's standard health service (`grpc.health.v1.Health/Check`)
   * about this service name, "" for the whole server; default: a connection is enough.
   */
  readonly healthCheckService?: string;
  /** Metrics, health and drain, shared with an admin listener; default: the plugin's own, unexposed. */
  readonly ops?: ProxyOps;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface ResolvedOptions {
  readonly upstream: URL;
  readonly allowedOrigins: readonly string[];
  readonly maxTimeoutMs: number | undefined;
  readonly maxMessageBytes: number;
}

/** Checks the options once, at registration, so a bad value fails start-up and never a call. */
export function resolveOptions(options: GrpcWebProxyOptions): ResolvedOptions {
  const upstream = parseUpstream(options.upstream);
  const { maxTimeoutMs, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES } = options;
  if (maxTimeoutMs !== undefined && !(maxTimeoutMs > 0)) {
    throw new TypeError(`maxTimeoutMs must be a positive number of milliseconds, got ${maxTimeoutMs}`);
  }
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new TypeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  }
  return { upstream, allowedOrigins: options.allowedOrigins ?? [], maxTimeoutMs, maxMessageBytes };
}

function parseUpstream(value: string | URL): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`upstream must be a URL like http://127.0.0.1:50051, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`upstream must use http: (h2c) or https:, got "${url.protocol}"`);
  }
  return url;
}
