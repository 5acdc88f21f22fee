import { parseArgs } from "node:util";
import { parseDuration } from "../protocol/timeout.js";
import { DEFAULT_MAX_MESSAGE_BYTES, type GrpcWebProxyOptions } from "./options.js";

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
  readonly proxy: GrpcWebProxyOptions;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** The --health-check value that asks about the whole server (service ""). */
const WHOLE_SERVER = "server";

export type CliParse =
  | { readonly kind: "run"; readonly config: CliConfig }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "error"; readonly message: string };

interface Flag {
  readonly env: string;
  readonly multiple?: boolean;
  readonly arg: string;
  readonly help: string;
}

/** Every flag, with the environment variable that sets it when the flag is absent. */
const FLAGS = {
  listen: {
    env: "GRPC_WEB_BRIDGE_LISTEN",
    arg: "HOST:PORT",
    help: "where to accept gRPC-Web (default 127.0.0.1:8080)",
  },
  upstream: {
    env: "GRPC_WEB_BRIDGE_UPSTREAM",
    arg: "URL",
    help: "the gRPC backend, http://host:port (h2c) or https://",
  },
  "allowed-origin": {
    env: "GRPC_WEB_BRIDGE_ALLOWED_ORIGINS",
    multiple: true,
    arg: "ORIGIN",
    help: "a browser origin allowed to call; repeat, or '*' for any (env: comma-separated). Default: same-origin only",
  },
  "max-timeout": {
    env: "GRPC_WEB_BRIDGE_MAX_TIMEOUT",
    arg: "DURATION",
    help: "clamp for the client's grpc-timeout, e.g. 30s, 5m (default: none)",
  },
  "max-message-bytes": {
    env: "GRPC_WEB_BRIDGE_MAX_MESSAGE_BYTES",
    arg: "N",
    help: `largest request message in bytes (default ${DEFAULT_MAX_MESSAGE_BYTES})`,
  },
  "log-level": {
    env: "GRPC_WEB_BRIDGE_LOG_LEVEL",
    arg: "LEVEL",
    help: "fatal, error, warn, info, debug, trace or silent (default info)",
  },
  "admin-listen": {
    env: "GRPC_WEB_BRIDGE_ADMIN_LISTEN",
    arg: "HOST:PORT",
    help: "where to serve /healthz, /readyz and /metrics (default: off); never the public port",
  },
  "health-check": {
    env: "GRPC_WEB_BRIDGE_HEALTH_CHECK",
    arg: "SERVICE",
    help: `readiness asks the backend's grpc.health.v1 about SERVICE ('${WHOLE_SERVER}': the whole server). Default: a connection is enough`,
  },
  "drain-timeout": {
    env: "GRPC_WEB_BRIDGE_DRAIN_TIMEOUT",
    arg: "DURATION",
    help: "on SIGTERM/SIGINT, how long calls in flight may run on before they end with UNAVAILABLE (default 30s)",
  },
} as const satisfies Record<string, Flag>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export const USAGE = [
  "Usage: grpc-web-bridge --upstream URL [options]",
  "",
  "Accepts gRPC-Web (HTTP/1.1) from browsers and calls a native gRPC backend over HTTP/2.",
  "",
  "Options (each also read from the environment variable shown):",
  ...Object.entries(FLAGS).map(
    ([name, flag]) =>
      `  --${`${name} ${flag.arg}`.padEnd(28)} ${flag.help}\n  ${"".padEnd(30)} env ${flag.env}`,
  ),
  `  --${"help".padEnd(28)} show this text`,
].join("\n");

/** Flags, then environment variables, then defaults; the first bad value is the one error. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliParse {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([name, flag]) => [
        name,
        { type: "string" as const, multiple: "multiple" in flag && flag.multiple },
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

  const setting = (name: keyof typeof FLAGS): string | undefined => {
    const value = values[name];
    return typeof value === "string" ? value : env[FLAGS[name].env] || undefined;
  };
  const bad = (name: keyof typeof FLAGS, why: string): CliParse => ({
    kind: "error",
    message: `--${name}: ${why}`,
  });

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

  const upstream = setting("upstream");
  if (!upstream) return bad("upstream", "required: the gRPC backend, e.g. http://127.0.0.1:50051");
  try {
    const url = new URL(upstream);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
  } catch {
    return bad("upstream", `expected http://host:port or https://host:port, got "${upstream}"`);
  }

  const originFlag = values["allowed-origin"];
  const allowedOrigins = Array.isArray(originFlag)
    ? originFlag
    : (env[FLAGS["allowed-origin"].env]
        ?.split(",")
        .map((o) => o.trim())
        .filter(Boolean) ?? []);
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
  if (!LOG_LEVELS.includes(logLevel)) return bad("log-level", `expected one of ${LOG_LEVELS.join(", ")}`);

  const drainTimeout = setting("drain-timeout");
  const drainTimeoutMs = drainTimeout === undefined ? DEFAULT_DRAIN_TIMEOUT_MS : parseDuration(drainTimeout);
  if (drainTimeoutMs === undefined) {
    return bad("drain-timeout", `expected a duration like 500ms, 30s or 5m, got "${drainTimeout}"`);
  }

  const healthCheck = setting("health-check");
  const healthCheckService = healthCheck === WHOLE_SERVER ? "" : healthCheck;

  return {
    kind: "run",
    config: {
      ...address,
      logLevel,
      admin,
      drainTimeoutMs,
      proxy: {
        upstream,
        allowedOrigins,
        ...(maxTimeoutMs !== undefined && { maxTimeoutMs }),
        ...(maxMessageBytes !== undefined && { maxMessageBytes }),
        ...(healthCheckService !== undefined && { healthCheckService }),
      },
    },
  };
}

function parseHostPort(value: string): HostPort | undefined {
  const colon = value.lastIndexOf(":");
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(value.slice(colon + 1));
  if (colon < 0 || !host || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host, port };
}
