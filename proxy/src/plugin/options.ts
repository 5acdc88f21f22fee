import type { HeaderPolicy } from "../call/bridged-call.js";
import type { ResponseCompressionSetting } from "../call/response-compression.js";
import type { ProxyOps } from "../ops/ops.js";
import { optionProblems, optionValue, throwIfProblems } from "../settings/option-check.js";
import type { ConfigProblem } from "../settings/problems.js";
import type { Resolver } from "../upstream/resolver.js";
import { planRouting, type RoutingOptions, type RoutingPlan } from "../upstream/routing.js";
import type { UpstreamTlsOptions } from "../upstream/tls.js";
import type { CallInterceptor } from "./interceptors.js";
import type { CallLimitOptions } from "./limits.js";

/**
 * Options of the Fastify plugin: the config file's keys, with the same values (durations as text like "30s"),
 * plus the few that are code. docs/settings.md lists each setting with its default.
 */
export interface GrpcWebProxyOptions extends CallLimitOptions, RoutingOptions {
  /** Browser origins allowed to call, or `["*"]` for any; default: same-origin only. */
  readonly allowedOrigins?: readonly string[];
  /** Names the proxy answers to in Host or `:authority`; default: loopback names when listening on loopback only. */
  readonly publicHosts?: readonly string[];
  /** Keep the forwarding headers clients send; default false: replaced with what the proxy saw. */
  readonly trustForwarded?: boolean;
  /** Let a backend's set-cookie through; default false. */
  readonly passSetCookie?: boolean;
  /** Clamp for the client's `grpc-timeout`, e.g. "30s"; default: no clamp. */
  readonly maxTimeout?: string;
  /** Largest request message accepted, in bytes; default 4 MiB, as gRPC's own default. */
  readonly maxMessageBytes?: number;
  /** HTTP compression of gRPC-Web responses: "off" (default), "gzip" or "br". */
  readonly responseCompression?: ResponseCompressionSetting;
  /** Resolves the hosts of `dns:///` addresses; default: the system's resolver (getaddrinfo). */
  readonly resolveHost?: Resolver;
  /** Metrics, health and drain, shared with an admin listener; default: the plugin's own, unexposed. */
  readonly ops?: ProxyOps;
  /** Run in order before each call is forwarded; any may refuse it or edit its metadata. Default: none. */
  readonly interceptors?: readonly CallInterceptor[];
  /** CA, client certificate and name checks of an `https://` upstream. */
  readonly upstreamTls?: UpstreamTlsOptions;
  /** How long a WebSocket call has to send its request metadata, e.g. "10s"; default 10 s. */
  readonly websocketFirstMessageTimeout?: string;
  /** Ping a WebSocket call silent this long; "0" turns pings off. Default 30 s. */
  readonly websocketPingInterval?: string;
}

/** The options that are code or structure, not settings of the registry; and what Fastify's register takes. */
const CODE_OPTIONS = {
  upstreams: "object",
  routes: "object",
  resolveHost: "function",
  ops: "object",
  interceptors: "object",
  upstreamTls: "object",
  prefix: "string",
  logLevel: "string",
  logSerializers: "object",
} as const;
export const PLUGIN_CODE_OPTIONS = Object.keys(CODE_OPTIONS);

export interface ResolvedOptions {
  /** The upstreams, and which calls go to which. */
  readonly routing: RoutingPlan;
  readonly allowedOrigins: readonly string[];
  /** undefined: the default, decided once the server listens. */
  readonly publicHosts: readonly string[] | undefined;
  readonly headerPolicy: HeaderPolicy;
  readonly maxTimeoutMs: number | undefined;
  readonly maxMessageBytes: number;
  readonly responseCompression: ResponseCompressionSetting;
}

/**
 * Checks the options once, at registration, so a bad value fails start-up and never a call: every unknown
 * option and every bad value, in one TypeError.
 */
export function resolveOptions(options: GrpcWebProxyOptions): ResolvedOptions {
  const problems = [...optionProblems(options, ["plugin"], PLUGIN_CODE_OPTIONS), ...codeProblems(options)];
  const routing = planRouting(options);
  if (Array.isArray(routing)) problems.push(...routing);
  throwIfProblems("grpc-web-bridge options", problems);
  return {
    routing: routing as RoutingPlan,
    allowedOrigins: optionValue(options, "allowedOrigins") ?? [],
    publicHosts: optionValue(options, "publicHosts"),
    headerPolicy: {
      trustForwarded: optionValue(options, "trustForwarded") === true,
      passSetCookie: optionValue(options, "passSetCookie") === true,
    },
    maxTimeoutMs: optionValue(options, "maxTimeout"),
    maxMessageBytes: optionValue(options, "maxMessageBytes") as number,
    responseCompression: optionValue(options, "responseCompression") as ResponseCompressionSetting,
  };
}

/** The code options of the wrong type; routing checks `upstreams` and `routes` itself. */
function codeProblems(options: object): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, type] of Object.entries(CODE_OPTIONS)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined || key === "upstreams" || key === "routes") continue;
    if (typeof value !== type || value === null)
      problems.push({ path: [key], message: `expected a ${type}` });
    else if (
      key === "interceptors" &&
      !(Array.isArray(value) && value.every((i) => typeof i === "function"))
    ) {
      problems.push({ path: [key], message: "expected a list of interceptor functions" });
    }
  }
  return problems;
}
