import { parseArgs } from "node:util";
import { DEFAULT_MAX_MESSAGE_BYTES, type GrpcWebProxyOptions } from "../plugin/options.js";
import { parseDuration } from "../protocol/timeout.js";
import { type ConfigFileValues, loadConfigFile } from "../settings/config-file.js";
import {
  durationProblem,
  positiveDuration,
  routingFromFile,
  WHOLE_SERVER,
} from "../settings/file-routing.js";
import { LOG_LEVELS } from "../settings/schema.js";
import { parseUpstreamAddress } from "../upstream/address.js";
import type { RoutingOptions, UpstreamTuning } from "../upstream/routing.js";
import { type Flag, parseServingFlags, SERVING_FLAGS, type ServingSettings } from "./serving-flags.js";

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface CliConfig extends HostPort {
  readonly logLevel: string;
  /** Where /healthz, /readyz and /metrics are served; undefined: nowhere. */
  readonly admin: HostPort | undefined;
  /** How long calls in flight may run on after SIGTERM/SIGINT. */
  readonly drainTimeoutMs: number;
  readonly proxy: GrpcWebProxyOptions & ServingSettings["server"];
  /** Processes that share the port (node:cluster); 1: this one alone. */
  readonly workers: number;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export type CliParse =
  | { readonly kind: "run"; readonly config: CliConfig }
  /** --check-config: the file (with the flags) is valid; `summary` says what it sets up. */
  | { readonly kind: "checked"; readonly config: CliConfig; readonly summary: string }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "error"; readonly message: string };

/** Every flag, with the environment variable that sets it when the flag is absent, then the config file's key. */
const FLAGS = {
  config: {
    env: "GRPC_WEB_BRIDGE_CONFIG",
    arg: "FILE",
    help: "a YAML or JSON config file: every setting below, plus upstreams and routes. Flags and env win over it",
  },
  "check-config": {
    arg: "FILE",
    help: "check FILE (as --config, with the other flags) and exit: 0 when valid, 2 with every problem",
  },
  listen: {
    key: "listen",
    env: "GRPC_WEB_BRIDGE_LISTEN",
    arg: "HOST:PORT",
    help: "where to accept gRPC-Web (default 127.0.0.1:8080)",
  },
  upstream: {
    key: "upstream",
    env: "GRPC_WEB_BRIDGE_UPSTREAM",
    arg: "URL",
    help: "the gRPC backend for every call: http://host:port (h2c), https://host:port, or dns:///host:port (dns+https:/// for TLS) for every address of host",
  },
  "allowed-origin": {
    key: "allowedOrigins",
    env: "GRPC_WEB_BRIDGE_ALLOWED_ORIGINS",
    multiple: true,
    arg: "ORIGIN",
    help: "a browser origin allowed to call; repeat, or '*' for any (env: comma-separated). Default: same-origin only",
  },
  "max-timeout": {
    key: "maxTimeout",
    env: "GRPC_WEB_BRIDGE_MAX_TIMEOUT",
    arg: "DURATION",
    help: "clamp for the client's grpc-timeout, e.g. 30s, 5m (default: none)",
  },
  "max-message-bytes": {
    key: "maxMessageBytes",
    env: "GRPC_WEB_BRIDGE_MAX_MESSAGE_BYTES",
    arg: "N",
    help: `largest request message in bytes (default ${DEFAULT_MAX_MESSAGE_BYTES})`,
  },
  "log-level": {
    key: "logLevel",
    env: "GRPC_WEB_BRIDGE_LOG_LEVEL",
    arg: "LEVEL",
    help: "fatal, error, warn, info, debug, trace or silent (default info)",
  },
  "admin-listen": {
    key: "adminListen",
    env: "GRPC_WEB_BRIDGE_ADMIN_LISTEN",
    arg: "HOST:PORT",
    help: "where to serve /healthz, /readyz and /metrics (default: off); never the public port",
  },
  "health-check": {
    key: "healthCheck",
    env: "GRPC_WEB_BRIDGE_HEALTH_CHECK",
    arg: "SERVICE",
    help: `readiness asks the backend's grpc.health.v1 about SERVICE ('${WHOLE_SERVER}': the whole server). Default: a connection is enough`,
  },
  "drain-timeout": {
    key: "drainTimeout",
    env: "GRPC_WEB_BRIDGE_DRAIN_TIMEOUT",
    arg: "DURATION",
    help: "on SIGTERM/SIGINT, how long calls in flight may run on before they end with UNAVAILABLE (default 30s)",
  },
  "connect-timeout": {
    key: "connectTimeout",
    env: "GRPC_WEB_BRIDGE_CONNECT_TIMEOUT",
    arg: "DURATION",
    help: "an upstream connection not up within this is given up, its address ejected for a while (default 5s)",
  },
  "keepalive-interval": {
    key: "keepaliveInterval",
    env: "GRPC_WEB_BRIDGE_KEEPALIVE_INTERVAL",
    arg: "DURATION",
    help: "send an HTTP/2 PING on each upstream session this often (default: never; the backend must allow it)",
  },
  "keepalive-timeout": {
    key: "keepaliveTimeout",
    env: "GRPC_WEB_BRIDGE_KEEPALIVE_TIMEOUT",
    arg: "DURATION",
    help: "a PING unanswered this long closes its session, failing its calls with UNAVAILABLE (default 20s)",
  },
  "session-idle-timeout": {
    key: "sessionIdleTimeout",
    env: "GRPC_WEB_BRIDGE_SESSION_IDLE_TIMEOUT",
    arg: "DURATION",
    help: "close an upstream session that has had no call for this long (default 5m)",
  },
  "dns-refresh": {
    key: "dnsRefresh",
    env: "GRPC_WEB_BRIDGE_DNS_REFRESH",
    arg: "DURATION",
    help: "resolve dns:/// upstream addresses again this often (default 10s)",
  },
  ...SERVING_FLAGS,
} as const satisfies Record<string, Flag>;

type FlagName = keyof typeof FLAGS;

/** Upstream settings that are durations: their flag, and the plugin option each sets. */
const UPSTREAM_DURATIONS = [
  ["connect-timeout", "connectTimeoutMs"],
  ["keepalive-interval", "keepaliveIntervalMs"],
  ["keepalive-timeout", "keepaliveTimeoutMs"],
  ["session-idle-timeout", "sessionIdleTimeoutMs"],
  ["dns-refresh", "dnsRefreshMs"],
] as const satisfies readonly (readonly [FlagName, keyof UpstreamTuning])[];

export const USAGE = [
  "Usage: grpc-web-bridge --upstream URL [options]",
  "       grpc-web-bridge --config FILE [options]",
  "       grpc-web-bridge --check-config FILE",
  "",
  "Accepts gRPC-Web (HTTP/1.1) from browsers and calls a native gRPC backend over HTTP/2.",
  "",
  "Options (each also read from the environment variable shown, then from the config file's key):",
  ...Object.entries(FLAGS).map(
    ([name, flag]) => `  --${`${name} ${flag.arg}`.padEnd(28)} ${flag.help}${sources(flag)}`,
  ),
  `  --${"help".padEnd(28)} show this text`,
].join("\n");

/**
 * Flags, then environment variables, then the config file, then defaults. The first bad flag is the
 * one error; a config file's problems are all listed, each with its line.
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliParse {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([name, flag]) => [
        name,
        "boolean" in flag
          ? { type: "boolean" as const }
          : { type: "string" as const, multiple: "multiple" in flag && flag.multiple },
      ]),
    );
    values = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (error) {
    return { kind: "error", message: (error as Error).message.split("\n")[0] ?? "bad arguments" };
  }
  if (values.help) return { kind: "help", text: USAGE };

  const given = (name: FlagName): string | undefined => {
    const value = values[name];
    const variable = (FLAGS[name] as Flag).env;
    if (value === true) return "true";
    return typeof value === "string" ? value : (variable && env[variable]) || undefined;
  };
  const checkOnly = given("check-config");
  const configPath = checkOnly ?? given("config");
  const loaded = configPath === undefined ? undefined : loadConfigFile(configPath);
  if (loaded && !loaded.ok) return { kind: "error", message: loaded.errors.join("\n") };
  const file = loaded?.config;
  const fromFile = (name: FlagName): string | undefined => {
    const key = (FLAGS[name] as Flag).key;
    const value = key === undefined ? undefined : file?.values[key];
    return value === undefined ? undefined : String(value);
  };
  const setting = (name: FlagName): string | undefined => given(name) ?? fromFile(name);
  const bad = (name: FlagName, why: string): CliParse => {
    const key = (FLAGS[name] as Flag).key;
    if (file && key && given(name) === undefined && file.values[key] !== undefined) {
      return { kind: "error", message: file.describe({ path: [key], message: why }) };
    }
    return { kind: "error", message: `--${name}: ${why}` };
  };

  const listen = setting("listen") ?? "127.0.0.1:8080";
  const address = parseHostPort(listen);
  if (!address) return bad("listen", `expected HOST:PORT, got "${listen}"`);

  const adminListen = setting("admin-listen");
  const admin = adminListen === undefined ? undefined : parseHostPort(adminListen);
  if (adminListen !== undefined && !admin)
    return bad("admin-listen", `expected HOST:PORT, got "${adminListen}"`);
  if (admin && admin.port !== 0 && admin.port === address.port && admin.host === address.host) {
    return bad("admin-listen", "must differ from --listen: health and metrics never share the public port");
  }

  // An upstream from the flags or the environment replaces the file's upstreams and routes.
  let routing: RoutingOptions;
  const upstream = given("upstream");
  if (upstream === undefined && file && hasRouting(file)) {
    const planned = routingFromFile(file);
    if (Array.isArray(planned)) return { kind: "error", message: planned.join("\n") };
    routing = planned;
  } else {
    if (!upstream) return bad("upstream", "required: the gRPC backend, e.g. http://127.0.0.1:50051");
    const address = parseUpstreamAddress(upstream);
    if (typeof address === "string") return bad("upstream", address);
    routing = { upstream };
  }

  const originFlag = values["allowed-origin"];
  const allowedOrigins = Array.isArray(originFlag)
    ? originFlag
    : (env[FLAGS["allowed-origin"].env]
        ?.split(",")
        .map((o) => o.trim())
        .filter(Boolean) ??
      file?.values.allowedOrigins ??
      []);
  for (const origin of allowedOrigins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      return bad("allowed-origin", `expected '*' or scheme://host[:port] with no path, got "${origin}"`);
    }
  }

  const maxTimeout = setting("max-timeout");
  const maxTimeoutMs = maxTimeout === undefined ? undefined : parseDuration(maxTimeout);
  if (maxTimeout !== undefined && !(maxTimeoutMs !== undefined && maxTimeoutMs > 0)) {
    return bad("max-timeout", `expected a duration like 500ms, 30s, 5m or 1h, got "${maxTimeout}"`);
  }

  const maxBytes = setting("max-message-bytes");
  const maxMessageBytes = maxBytes === undefined ? undefined : Number(maxBytes);
  if (maxMessageBytes !== undefined && !(Number.isSafeInteger(maxMessageBytes) && maxMessageBytes > 0)) {
    return bad("max-message-bytes", `expected a positive whole number of bytes, got "${maxBytes}"`);
  }

  const logLevel = setting("log-level") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    return bad("log-level", `expected one of ${LOG_LEVELS.join(", ")}`);
  }

  const drainTimeout = setting("drain-timeout");
  const drainTimeoutMs = drainTimeout === undefined ? DEFAULT_DRAIN_TIMEOUT_MS : parseDuration(drainTimeout);
  if (drainTimeoutMs === undefined) {
    return bad("drain-timeout", `expected a duration like 500ms, 30s or 5m, got "${drainTimeout}"`);
  }

  const healthCheck = setting("health-check");
  const healthCheckService = healthCheck === WHOLE_SERVER ? "" : healthCheck;

  const tuning: { -readonly [K in keyof UpstreamTuning]: UpstreamTuning[K] } = {};
  for (const [name, option] of UPSTREAM_DURATIONS) {
    const text = setting(name);
    if (text === undefined) continue;
    const ms = positiveDuration(text);
    if (ms === undefined) return bad(name, durationProblem(text));
    tuning[option] = ms;
  }

  const serving = parseServingFlags(setting);
  if ("flag" in serving) return bad(serving.flag, serving.why);

  const config: CliConfig = {
    ...address,
    logLevel,
    admin,
    drainTimeoutMs,
    workers: serving.workers,
    proxy: {
      ...serving.server,
      ...routing,
      ...tuning,
      allowedOrigins,
      ...(maxTimeoutMs !== undefined && { maxTimeoutMs }),
      ...(maxMessageBytes !== undefined && { maxMessageBytes }),
      ...(healthCheckService !== undefined && { healthCheckService }),
    },
  };
  if (checkOnly === undefined) return { kind: "run", config };
  return { kind: "checked", config, summary: `${checkOnly}: valid; ${describeRouting(routing)}` };
}

/** The help text's second line of a flag: where else its value comes from. */
function sources(flag: Flag): string {
  const from = [flag.env && `env ${flag.env}`, flag.key && `config key ${flag.key}`].filter(Boolean);
  return from.length === 0 ? "" : `\n  ${"".padEnd(30)} ${from.join(", ")}`;
}

function hasRouting({ values }: ConfigFileValues): boolean {
  return values.upstream !== undefined || values.upstreams !== undefined || values.routes !== undefined;
}

/** "2 upstreams (greeter: dns:///greeter:50051; echo: …), 3 routes", for --check-config. */
export function describeRouting({ upstream, upstreams, routes }: RoutingOptions): string {
  if (upstream !== undefined) return `every call goes to ${upstream}`;
  const entries = Object.entries(upstreams ?? {});
  const list = entries.map(([name, { addresses }]) => `${name}: ${addresses.join(", ")}`).join("; ");
  const routeCount = routes === undefined ? "every call to it" : `${routes.length} routes`;
  return `${entries.length} upstream${entries.length === 1 ? "" : "s"} (${list}), ${routeCount}`;
}

function parseHostPort(value: string): HostPort | undefined {
  const colon = value.lastIndexOf(":");
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(value.slice(colon + 1));
  if (colon < 0 || !host || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host, port };
}
