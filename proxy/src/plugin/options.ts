import type { ProxyOps } from "../ops/ops.js";
import { keyName } from "../settings/config-file.js";
import type { Resolver } from "../upstream/resolver.js";
import { planRouting, type RoutingOptions, type RoutingPlan } from "../upstream/routing.js";
import type { UpstreamTlsOptions } from "../upstream/tls.js";
import type { CallInterceptor } from "./interceptors.js";
import type { CallLimitOptions } from "./limits.js";

/** Options of the Fastify plugin; the CLI and config file map onto these. */
export interface GrpcWebProxyOptions extends CallLimitOptions, RoutingOptions {
  /** Browser origins allowed to call, or `["*"]` for any; default: same-origin only. */
  readonly allowedOrigins?: readonly string[];
  /** Clamp for the client's `grpc-timeout`, in ms; default: no clamp. */
  readonly maxTimeoutMs?: number;
  /** Largest request message accepted, in bytes; default 4 MiB, as gRPC's own default. */
  readonly maxMessageBytes?: number;
  /** Resolves the hosts of `dns:///` addresses; default: the system's resolver (getaddrinfo). */
  readonly resolveHost?: Resolver;
  /** Metrics, health and drain, shared with an admin listener; default: the plugin's own, unexposed. */
  readonly ops?: ProxyOps;
  /** Run in order before each call is forwarded; any may refuse it or edit its metadata. Default: none. */
  readonly interceptors?: readonly CallInterceptor[];
  /** CA, client certificate and name checks of an `https://` upstream. */
  readonly upstreamTls?: UpstreamTlsOptions;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface ResolvedOptions {
  /** The upstreams, and which calls go to which. */
  readonly routing: RoutingPlan;
  readonly allowedOrigins: readonly string[];
  readonly maxTimeoutMs: number | undefined;
  readonly maxMessageBytes: number;
}

/** Checks the options once, at registration, so a bad value fails start-up and never a call. */
export function resolveOptions(options: GrpcWebProxyOptions): ResolvedOptions {
  const routing = planRouting(options);
  if (Array.isArray(routing)) {
    throw new TypeError(routing.map(({ path, message }) => `${keyName(path)}: ${message}`).join("; "));
  }
  const { maxTimeoutMs, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES } = options;
  if (maxTimeoutMs !== undefined && !(maxTimeoutMs > 0)) {
    throw new TypeError(`maxTimeoutMs must be a positive number of milliseconds, got ${maxTimeoutMs}`);
  }
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new TypeError(`maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  }
  return { routing, allowedOrigins: options.allowedOrigins ?? [], maxTimeoutMs, maxMessageBytes };
}
