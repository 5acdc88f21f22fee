import { accessSync, constants } from "node:fs";
import { availableParallelism } from "node:os";
import { bearerAuthFromFiles } from "../auth/from-files.js";
import type { ServerOptions } from "../plugin/build.js";
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from "../plugin/connection-limits.js";
import type { CallInterceptor } from "../plugin/interceptors.js";
import {
  DEFAULT_MAX_CONCURRENT_CALLS,
  DEFAULT_MAX_CONCURRENT_CALLS_PER_CONNECTION,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_RESPONSE_MESSAGE_BYTES,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
} from "../plugin/limits.js";
import { parseDuration } from "../protocol/timeout.js";
import type { ConfigFile } from "../settings/schema.js";
import type { UpstreamTlsOptions } from "../upstream/tls.js";

/** A command-line flag, its environment variable and its config file key. */
export interface Flag {
  /** Read when the flag is absent; none for flags that pick a mode. */
  readonly env?: string;
  readonly multiple?: boolean;
  /** A switch: given or not (env and file: "true" or "false"). */
  readonly boolean?: boolean;
  readonly arg: string;
  readonly help: string;
  /** The config file's key for it; none: flag only. */
  readonly key?: keyof ConfigFile;
}

/** The flags of serving in production: TLS both ways, bearer auth, limits and timeouts, workers. */
export const SERVING_FLAGS = {
  "tls-cert": {
    key: "tlsCert",
    env: "GRPC_WEB_BRIDGE_TLS_CERT",
    arg: "FILE",
    help: "PEM certificate chain: serve TLS, HTTP/2 and HTTP/1.1 by ALPN; reloaded when the file changes (default: plain HTTP/1.1)",
  },
  "tls-key": {
    key: "tlsKey",
    env: "GRPC_WEB_BRIDGE_TLS_KEY",
    arg: "FILE",
    help: "PEM private key of --tls-cert",
  },
  "upstream-ca": {
    key: "upstreamCa",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_CA",
    arg: "FILE",
    help: "PEM CA(s) that sign https:// and dns+https:/// upstreams' certificates (default: Node's public CAs)",
  },
  "upstream-cert": {
    key: "upstreamCert",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_CERT",
    arg: "FILE",
    help: "PEM client certificate for mTLS to https:// and dns+https:/// upstreams; needs --upstream-key",
  },
  "upstream-key": {
    key: "upstreamKey",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_KEY",
    arg: "FILE",
    help: "PEM private key of --upstream-cert",
  },
  "upstream-server-name": {
    key: "upstreamServerName",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_SERVER_NAME",
    arg: "NAME",
    help: "the name upstream certificates must carry (and SNI), when it differs from the address",
  },
  "upstream-insecure-skip-verify": {
    key: "upstreamInsecureSkipVerify",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_INSECURE_SKIP_VERIFY",
    boolean: true,
    arg: "",
    help: "accept any upstream certificate: tests only, never production (logs a warning)",
  },
  "auth-tokens-file": {
    key: "authTokensFile",
    env: "GRPC_WEB_BRIDGE_AUTH_TOKENS_FILE",
    arg: "FILE",
    help: "require authorization: Bearer <token> with a token from FILE (one a line) or a JWT (--auth-jwt-key)",
  },
  "auth-jwt-key": {
    key: "authJwtKey",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_KEY",
    arg: "FILE",
    help: "require a bearer JWT signed by this public key: PEM, JWK or JWKS",
  },
  "auth-jwt-issuer": {
    key: "authJwtIssuer",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_ISSUER",
    arg: "ISS",
    help: "the iss the JWT must carry",
  },
  "auth-jwt-audience": {
    key: "authJwtAudience",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_AUDIENCE",
    arg: "AUD",
    help: "the aud the JWT must carry",
  },
  "max-response-message-bytes": {
    key: "maxResponseMessageBytes",
    env: "GRPC_WEB_BRIDGE_MAX_RESPONSE_MESSAGE_BYTES",
    arg: "N",
    help: `largest response message in bytes, past it RESOURCE_EXHAUSTED (default ${DEFAULT_MAX_RESPONSE_MESSAGE_BYTES})`,
  },
  "max-header-bytes": {
    key: "maxHeaderBytes",
    env: "GRPC_WEB_BRIDGE_MAX_HEADER_BYTES",
    arg: "N",
    help: `largest request header block in bytes (default ${DEFAULT_MAX_HEADER_BYTES})`,
  },
  "max-concurrent-calls": {
    key: "maxConcurrentCalls",
    env: "GRPC_WEB_BRIDGE_MAX_CONCURRENT_CALLS",
    arg: "N",
    help: `calls in flight per process, past it RESOURCE_EXHAUSTED (default ${DEFAULT_MAX_CONCURRENT_CALLS})`,
  },
  "max-calls-per-connection": {
    key: "maxCallsPerConnection",
    env: "GRPC_WEB_BRIDGE_MAX_CALLS_PER_CONNECTION",
    arg: "N",
    help: `calls in flight on one browser connection (default ${DEFAULT_MAX_CONCURRENT_CALLS_PER_CONNECTION})`,
  },
  "default-timeout": {
    key: "defaultTimeout",
    env: "GRPC_WEB_BRIDGE_DEFAULT_TIMEOUT",
    arg: "DURATION",
    help: "deadline of a call that sends no grpc-timeout, clamped by --max-timeout (default: none)",
  },
  "stream-idle-timeout": {
    key: "streamIdleTimeout",
    env: "GRPC_WEB_BRIDGE_STREAM_IDLE_TIMEOUT",
    arg: "DURATION",
    help: `end a call with no byte either way for this long, UNAVAILABLE; 0: never (default ${DEFAULT_STREAM_IDLE_TIMEOUT_MS / 60_000}m)`,
  },
  "headers-timeout": {
    key: "headersTimeout",
    env: "GRPC_WEB_BRIDGE_HEADERS_TIMEOUT",
    arg: "DURATION",
    help: `HTTP/1.1 request headers must arrive within this (default ${DEFAULT_HEADERS_TIMEOUT_MS / 1000}s)`,
  },
  "request-timeout": {
    key: "requestTimeout",
    env: "GRPC_WEB_BRIDGE_REQUEST_TIMEOUT",
    arg: "DURATION",
    help: `an HTTP/1.1 request, body included, must arrive within this; responses are never timed (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s)`,
  },
  workers: {
    key: "workers",
    env: "GRPC_WEB_BRIDGE_WORKERS",
    arg: "N|auto",
    help: "processes sharing the port, 'auto': one per CPU (default 1)",
  },
} as const satisfies Record<string, Flag>;

export type ServingFlag = keyof typeof SERVING_FLAGS;

/** What the serving flags set: server options, and how many processes serve. */
export interface ServingSettings {
  readonly server: Omit<ServerOptions, keyof RoutingKeys | "logger">;
  readonly workers: number;
}

type RoutingKeys = Pick<ServerOptions, "upstream" | "upstreams" | "routes">;

export type ServingParse = ServingSettings | Problem;

interface Problem {
  readonly flag: ServingFlag;
  readonly why: string;
}

type Setting = (name: ServingFlag) => string | undefined;
type Files = Partial<Record<(typeof FILE_FLAGS)[number], string>>;

/** The serving flags' values (from flag, env or file, as `setting` finds them), checked; the first bad one is the error. */
export function parseServingFlags(setting: Setting): ServingParse {
  const files = readableFiles(setting);
  if ("why" in files) return files;
  const certFile = files["tls-cert"];
  const keyFile = files["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    return {
      flag: certFile === undefined ? "tls-key" : "tls-cert",
      why: "--tls-cert and --tls-key go together",
    };
  }
  const upstreamTls = upstreamTlsOptions(setting, files);
  if ("why" in upstreamTls) return upstreamTls;
  const auth = bearerInterceptor(setting, files);
  if (auth && "why" in auth) return auth;
  const limits = limitOptions(setting);
  if ("why" in limits) return limits;

  const workersText = setting("workers");
  const workers =
    workersText === undefined ? 1 : workersText === "auto" ? availableParallelism() : Number(workersText);
  if (!Number.isSafeInteger(workers) || workers <= 0) {
    return { flag: "workers", why: `expected a positive whole number or "auto", got "${workersText}"` };
  }

  return {
    workers,
    server: {
      ...(certFile !== undefined && keyFile !== undefined && { tls: { certFile, keyFile } }),
      ...(Object.keys(upstreamTls).length > 0 && { upstreamTls }),
      ...(auth && { interceptors: [auth] }),
      ...limits,
    },
  };
}

/** The file flags that are set, each checked to be readable now, so a typo stops the start, not a call. */
function readableFiles(setting: Setting): Files | Problem {
  const files: Files = {};
  for (const flag of FILE_FLAGS) {
    const file = setting(flag);
    if (file === undefined) continue;
    if (!readable(file)) return { flag, why: `cannot read "${file}"` };
    files[flag] = file;
  }
  return files;
}

function upstreamTlsOptions(setting: Setting, files: Files): UpstreamTlsOptions | Problem {
  if ((files["upstream-cert"] === undefined) !== (files["upstream-key"] === undefined)) {
    return { flag: "upstream-cert", why: "--upstream-cert and --upstream-key go together" };
  }
  const skipVerify = setting("upstream-insecure-skip-verify");
  if (skipVerify !== undefined && skipVerify !== "true" && skipVerify !== "false") {
    return { flag: "upstream-insecure-skip-verify", why: `expected true or false, got "${skipVerify}"` };
  }
  const serverName = setting("upstream-server-name");
  return {
    ...(files["upstream-ca"] !== undefined && { caFile: files["upstream-ca"] }),
    ...(files["upstream-cert"] !== undefined && { certFile: files["upstream-cert"] }),
    ...(files["upstream-key"] !== undefined && { keyFile: files["upstream-key"] }),
    ...(serverName !== undefined && { serverName }),
    ...(skipVerify === "true" && { insecureSkipVerify: true }),
  };
}

function bearerInterceptor(setting: Setting, files: Files): CallInterceptor | Problem | undefined {
  const issuer = setting("auth-jwt-issuer");
  const audience = setting("auth-jwt-audience");
  if (files["auth-jwt-key"] === undefined && (issuer ?? audience) !== undefined) {
    return {
      flag: issuer === undefined ? "auth-jwt-audience" : "auth-jwt-issuer",
      why: "needs --auth-jwt-key",
    };
  }
  try {
    return bearerAuthFromFiles({
      ...(files["auth-tokens-file"] !== undefined && { tokensFile: files["auth-tokens-file"] }),
      ...(files["auth-jwt-key"] !== undefined && { jwtKeyFile: files["auth-jwt-key"] }),
      ...(issuer !== undefined && { jwtIssuer: issuer }),
      ...(audience !== undefined && { jwtAudience: audience }),
    });
  } catch (error) {
    const { message } = error as Error;
    return { flag: message.includes("JWT key") ? "auth-jwt-key" : "auth-tokens-file", why: message };
  }
}

type LimitOptions = Pick<ServerOptions, (typeof COUNT_FLAGS)[number][1] | (typeof DURATION_FLAGS)[number][1]>;

function limitOptions(setting: Setting): LimitOptions | Problem {
  const limits: { -readonly [K in keyof LimitOptions]: LimitOptions[K] } = {};
  for (const [flag, option] of COUNT_FLAGS) {
    const text = setting(flag);
    if (text === undefined) continue;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n <= 0)
      return { flag, why: `expected a positive whole number, got "${text}"` };
    limits[option] = n;
  }
  for (const [flag, option, zeroAllowed] of DURATION_FLAGS) {
    const text = setting(flag);
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || !(ms > 0 || (zeroAllowed && ms === 0))) {
      const off = zeroAllowed ? " (0: off)" : "";
      return { flag, why: `expected a duration like 500ms, 30s, 5m or 1h${off}, got "${text}"` };
    }
    limits[option] = ms;
  }
  return limits;
}

const FILE_FLAGS = [
  "tls-cert",
  "tls-key",
  "upstream-ca",
  "upstream-cert",
  "upstream-key",
  "auth-tokens-file",
  "auth-jwt-key",
] as const satisfies readonly ServingFlag[];

/** Whole numbers: the flag, and the option it sets. */
const COUNT_FLAGS = [
  ["max-response-message-bytes", "maxResponseMessageBytes"],
  ["max-header-bytes", "maxHeaderBytes"],
  ["max-concurrent-calls", "maxConcurrentCalls"],
  ["max-calls-per-connection", "maxConcurrentCallsPerConnection"],
] as const satisfies readonly (readonly [ServingFlag, keyof ServerOptions])[];

/** Durations: the flag, the option it sets, and whether 0 (off) is allowed. */
const DURATION_FLAGS = [
  ["default-timeout", "defaultTimeoutMs", false],
  ["stream-idle-timeout", "streamIdleTimeoutMs", true],
  ["headers-timeout", "headersTimeoutMs", false],
  ["request-timeout", "requestTimeoutMs", false],
] as const satisfies readonly (readonly [ServingFlag, keyof ServerOptions, boolean])[];

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
