// Every setting of the proxy, one row each: its flag, environment variable, config file key (which is also its
// plugin option's name), kind of value, default and help. The CLI's parser, the environment reader, the config
// file's schema, the plugin's option check, --help and docs/settings.md are all made from these rows.
// A new setting is a new row here and the code that uses its value; nothing else.

import { RESPONSE_COMPRESSIONS, type ResponseCompressionSetting } from "../call/response-compression.js";
import { LOG_FORMATS } from "../ops/log-format.js";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_SESSION_IDLE_TIMEOUT_MS,
} from "../upstream/pool.js";
import { DEFAULT_DNS_REFRESH_MS } from "../upstream/resolver.js";
import {
  boolean,
  count,
  duration,
  file,
  healthService,
  hostNames,
  hostPort,
  logLevel,
  oneOf,
  origins,
  text,
  upstreamUrl,
  type ValueKind,
  workers,
} from "./values.js";

/** Who takes a setting: the Fastify plugin, `buildServer` (the Node server around it), or only the CLI. */
export type TakenBy = "plugin" | "server" | "cli";

export interface Setting<T = unknown> {
  /** The flag's name, without "--". */
  readonly flag: string;
  /** Read when the flag is absent; none for the flag that picks a mode. */
  readonly env?: string;
  /** What the flag takes, for --help: FILE, DURATION…; none for a switch. */
  readonly arg?: string;
  readonly kind: ValueKind<T>;
  /** The value when no source sets it; or `unset`, what happens then. */
  readonly default?: T;
  readonly unset?: string;
  readonly help: string;
  readonly takenBy: TakenBy;
  /** Also a key of each entry of `upstreams`, where it wins over the top-level value for that upstream. */
  readonly perUpstream?: true;
  /** The flag may be repeated; the environment variable is comma-separated. */
  readonly repeated?: true;
  /** Only a flag (and environment variable): not a key of the config file. */
  readonly flagOnly?: true;
}

const setting = <T>(row: Setting<T>): Setting<T> => row;

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const SETTINGS = {
  config: setting({
    flag: "config",
    env: "GRPC_WEB_BRIDGE_CONFIG",
    arg: "FILE",
    kind: file,
    unset: "none",
    help: "a YAML or JSON config file: every setting here, plus `upstreams` and `routes`; flags and the environment win over it",
    takenBy: "cli",
    flagOnly: true,
  }),
  checkConfig: setting({
    flag: "check-config",
    arg: "FILE",
    kind: file,
    help: "check FILE as --config would, with the other flags and the environment; print what it sets up and exit 0, or list every problem and exit 2",
    takenBy: "cli",
    flagOnly: true,
  }),
  listen: setting({
    flag: "listen",
    env: "GRPC_WEB_BRIDGE_LISTEN",
    arg: "HOST:PORT",
    kind: hostPort,
    default: { host: "127.0.0.1", port: 8080 },
    help: "where browsers connect",
    takenBy: "cli",
  }),
  upstream: setting({
    flag: "upstream",
    env: "GRPC_WEB_BRIDGE_UPSTREAM",
    arg: "URL",
    kind: upstreamUrl,
    unset: "required, unless `upstreams`",
    help: "the one backend of every call: http://host:port (h2c), https://host:port, dns:///host:port (every address of host, h2c) or dns+https:///host:port (the same over TLS); replaces the file's `upstreams` and `routes`",
    takenBy: "plugin",
  }),
  allowedOrigins: setting({
    flag: "allowed-origin",
    env: "GRPC_WEB_BRIDGE_ALLOWED_ORIGINS",
    arg: "ORIGIN",
    kind: origins,
    unset: "same-origin only",
    help: "a browser origin allowed to call, '*' for any; repeat the flag (the environment variable is comma-separated, the file's key a list)",
    takenBy: "plugin",
    repeated: true,
  }),
  publicHosts: setting({
    flag: "public-host",
    env: "GRPC_WEB_BRIDGE_PUBLIC_HOSTS",
    arg: "NAME",
    kind: hostNames,
    unset:
      "loopback names (localhost, *.localhost, 127.0.0.1, ::1) when listening on loopback only; else any name, with a warning at start",
    help: "a name the proxy answers to in Host (or :authority), against DNS rebinding: a name, an IP address or *.suffix; repeat the flag (the environment variable is comma-separated, the file's key a list); others get 421",
    takenBy: "plugin",
    repeated: true,
  }),
  trustForwarded: setting({
    flag: "trust-forwarded-headers",
    env: "GRPC_WEB_BRIDGE_TRUST_FORWARDED_HEADERS",
    kind: boolean,
    default: false,
    help: "keep the x-forwarded-*, forwarded, via and x-real-ip headers clients send (append to x-forwarded-for), for a proxy of your own in front; otherwise they are replaced with what this proxy saw",
    takenBy: "plugin",
  }),
  passSetCookie: setting({
    flag: "pass-set-cookie",
    env: "GRPC_WEB_BRIDGE_PASS_SET_COOKIE",
    kind: boolean,
    default: false,
    help: "let a backend's set-cookie through to the browser (never exposed to cross-origin scripts); a backend's access-control-* never pass",
    takenBy: "plugin",
  }),
  maxTimeout: setting({
    flag: "max-timeout",
    env: "GRPC_WEB_BRIDGE_MAX_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    unset: "none",
    help: "clamp for the client's grpc-timeout; a call without one gets this deadline",
    takenBy: "plugin",
  }),
  maxMessageBytes: setting({
    flag: "max-message-bytes",
    env: "GRPC_WEB_BRIDGE_MAX_MESSAGE_BYTES",
    arg: "N",
    kind: count,
    default: DEFAULT_MAX_MESSAGE_BYTES,
    help: "largest request message, in bytes, as sent (compressed, for a compressed message: the backend's own limit applies to the decompressed size); past it RESOURCE_EXHAUSTED",
    takenBy: "plugin",
  }),
  responseCompression: setting({
    flag: "response-compression",
    env: "GRPC_WEB_BRIDGE_RESPONSE_COMPRESSION",
    arg: "CODING",
    kind: oneOf(RESPONSE_COMPRESSIONS),
    default: "off" as ResponseCompressionSetting,
    help: "HTTP compression of gRPC-Web responses (Content-Encoding) for browsers whose Accept-Encoding allows it, when the first message is at least 1 KiB: off, gzip, or br (brotli, else gzip); server streams are flushed after every message",
    takenBy: "plugin",
  }),
  logLevel: setting({
    flag: "log-level",
    env: "GRPC_WEB_BRIDGE_LOG_LEVEL",
    arg: "LEVEL",
    kind: logLevel,
    default: "info",
    help: "fatal, error, warn, info, debug, trace or silent",
    takenBy: "cli",
  }),
  logFormat: setting({
    flag: "log-format",
    env: "GRPC_WEB_BRIDGE_LOG_FORMAT",
    arg: "FORMAT",
    kind: oneOf(LOG_FORMATS),
    unset: "pretty when stdout is a terminal, json otherwise",
    help: "json (a JSON line for collectors) or pretty (one readable line per call, pino-pretty)",
    takenBy: "cli",
  }),
  adminListen: setting({
    flag: "admin-listen",
    env: "GRPC_WEB_BRIDGE_ADMIN_LISTEN",
    arg: "HOST:PORT",
    kind: hostPort,
    unset: "off",
    help: "where /healthz, /readyz and /metrics are served; never the public port",
    takenBy: "cli",
  }),
  healthCheck: setting({
    flag: "health-check",
    env: "GRPC_WEB_BRIDGE_HEALTH_CHECK",
    arg: "SERVICE",
    kind: healthService,
    unset: "off: a connection is enough",
    help: "readiness also asks the backend's grpc.health.v1.Health/Check about SERVICE ('server': the whole server)",
    takenBy: "plugin",
    perUpstream: true,
  }),
  drainTimeout: setting({
    flag: "drain-timeout",
    env: "GRPC_WEB_BRIDGE_DRAIN_TIMEOUT",
    arg: "DURATION",
    kind: duration("none"),
    default: 30_000,
    help: "on SIGTERM/SIGINT, how long calls in flight may run on before they end with UNAVAILABLE",
    takenBy: "cli",
  }),
  connectTimeout: setting({
    flag: "connect-timeout",
    env: "GRPC_WEB_BRIDGE_CONNECT_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    default: DEFAULT_CONNECT_TIMEOUT_MS,
    help: "an upstream connection not up within this is given up, and its address ejected for a while",
    takenBy: "plugin",
    perUpstream: true,
  }),
  keepaliveInterval: setting({
    flag: "keepalive-interval",
    env: "GRPC_WEB_BRIDGE_KEEPALIVE_INTERVAL",
    arg: "DURATION",
    kind: duration(),
    unset: "off",
    help: "an HTTP/2 PING on each upstream session this often; the backend must allow it",
    takenBy: "plugin",
    perUpstream: true,
  }),
  keepaliveTimeout: setting({
    flag: "keepalive-timeout",
    env: "GRPC_WEB_BRIDGE_KEEPALIVE_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    default: DEFAULT_KEEPALIVE_TIMEOUT_MS,
    help: "a PING unanswered this long closes its session; its calls end UNAVAILABLE",
    takenBy: "plugin",
    perUpstream: true,
  }),
  sessionIdleTimeout: setting({
    flag: "session-idle-timeout",
    env: "GRPC_WEB_BRIDGE_SESSION_IDLE_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    default: DEFAULT_SESSION_IDLE_TIMEOUT_MS,
    help: "an upstream session without calls this long is closed",
    takenBy: "plugin",
    perUpstream: true,
  }),
  dnsRefresh: setting({
    flag: "dns-refresh",
    env: "GRPC_WEB_BRIDGE_DNS_REFRESH",
    arg: "DURATION",
    kind: duration(),
    default: DEFAULT_DNS_REFRESH_MS,
    help: "how often dns:/// and dns+https:/// addresses are resolved again",
    takenBy: "plugin",
    perUpstream: true,
  }),
  tlsCert: setting({
    flag: "tls-cert",
    env: "GRPC_WEB_BRIDGE_TLS_CERT",
    arg: "FILE",
    kind: file,
    unset: "off: plain HTTP/1.1",
    help: "PEM certificate chain: the public port speaks TLS, HTTP/2 and HTTP/1.1 by ALPN; reloaded when the file changes",
    takenBy: "cli",
  }),
  tlsKey: setting({
    flag: "tls-key",
    env: "GRPC_WEB_BRIDGE_TLS_KEY",
    arg: "FILE",
    kind: file,
    unset: "none",
    help: "PEM private key of --tls-cert",
    takenBy: "cli",
  }),
  upstreamCa: setting({
    flag: "upstream-ca",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_CA",
    arg: "FILE",
    kind: file,
    unset: "Node's public CAs",
    help: "PEM CA(s) that sign https:// and dns+https:/// upstreams' certificates",
    takenBy: "cli",
  }),
  upstreamCert: setting({
    flag: "upstream-cert",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_CERT",
    arg: "FILE",
    kind: file,
    unset: "none",
    help: "PEM client certificate for mTLS to https:// and dns+https:/// upstreams; needs --upstream-key",
    takenBy: "cli",
  }),
  upstreamKey: setting({
    flag: "upstream-key",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_KEY",
    arg: "FILE",
    kind: file,
    unset: "none",
    help: "PEM private key of --upstream-cert",
    takenBy: "cli",
  }),
  upstreamServerName: setting({
    flag: "upstream-server-name",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_SERVER_NAME",
    arg: "NAME",
    kind: text,
    unset: "the URL's host, or the dns+https:/// name",
    help: "the name upstream certificates must carry (and SNI), when it differs from the address",
    takenBy: "cli",
  }),
  upstreamInsecureSkipVerify: setting({
    flag: "upstream-insecure-skip-verify",
    env: "GRPC_WEB_BRIDGE_UPSTREAM_INSECURE_SKIP_VERIFY",
    kind: boolean,
    default: false,
    help: "accept any upstream certificate, and log a warning at start: tests only, never production",
    takenBy: "cli",
  }),
  authTokensFile: setting({
    flag: "auth-tokens-file",
    env: "GRPC_WEB_BRIDGE_AUTH_TOKENS_FILE",
    arg: "FILE",
    kind: file,
    unset: "off",
    help: "calls need authorization: Bearer <token>, a token from FILE (one a line, # comments) or a JWT (--auth-jwt-key)",
    takenBy: "cli",
  }),
  authJwtKey: setting({
    flag: "auth-jwt-key",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_KEY",
    arg: "FILE",
    kind: file,
    unset: "off",
    help: "calls need a bearer JWT signed by this public key: PEM (key or certificate), JWK, or JWKS (picked by kid)",
    takenBy: "cli",
  }),
  authJwtIssuer: setting({
    flag: "auth-jwt-issuer",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_ISSUER",
    arg: "ISS",
    kind: text,
    unset: "any",
    help: "the iss the JWT must carry; needs --auth-jwt-key",
    takenBy: "cli",
  }),
  authJwtAudience: setting({
    flag: "auth-jwt-audience",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_AUDIENCE",
    arg: "AUD",
    kind: text,
    unset: "any",
    help: "the aud the JWT must carry; needs --auth-jwt-key",
    takenBy: "cli",
  }),
  authJwtAllowNoExpiry: setting({
    flag: "auth-jwt-allow-no-expiry",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_ALLOW_NO_EXPIRY",
    kind: boolean,
    default: false,
    help: "accept a JWT without exp, which is valid for ever once leaked; needs --auth-jwt-key",
    takenBy: "cli",
  }),
  authJwtClockSkew: setting({
    flag: "auth-jwt-clock-skew",
    env: "GRPC_WEB_BRIDGE_AUTH_JWT_CLOCK_SKEW",
    arg: "DURATION",
    kind: duration("none"),
    default: 30_000,
    help: "leeway for a JWT's exp, nbf and iat against this machine's clock; needs --auth-jwt-key",
    takenBy: "cli",
  }),
  maxResponseMessageBytes: setting({
    flag: "max-response-message-bytes",
    env: "GRPC_WEB_BRIDGE_MAX_RESPONSE_MESSAGE_BYTES",
    arg: "N",
    kind: count,
    default: 4 * 1024 * 1024,
    help: "largest response message, in bytes; past it RESOURCE_EXHAUSTED, after the whole messages before it",
    takenBy: "plugin",
  }),
  maxHeaderBytes: setting({
    flag: "max-header-bytes",
    env: "GRPC_WEB_BRIDGE_MAX_HEADER_BYTES",
    arg: "N",
    kind: count,
    default: 16 * 1024,
    help: "largest request header block, in bytes, counted as HTTP/2 does (name + value + 32 a field)",
    takenBy: "plugin",
  }),
  maxConcurrentCalls: setting({
    flag: "max-concurrent-calls",
    env: "GRPC_WEB_BRIDGE_MAX_CONCURRENT_CALLS",
    arg: "N",
    kind: count,
    default: 10_000,
    help: "calls in flight per process; past it RESOURCE_EXHAUSTED",
    takenBy: "plugin",
  }),
  maxCallsPerConnection: setting({
    flag: "max-calls-per-connection",
    env: "GRPC_WEB_BRIDGE_MAX_CALLS_PER_CONNECTION",
    arg: "N",
    kind: count,
    default: 100,
    help: "calls in flight on one browser connection (HTTP/2 multiplexes); past it RESOURCE_EXHAUSTED",
    takenBy: "plugin",
  }),
  defaultTimeout: setting({
    flag: "default-timeout",
    env: "GRPC_WEB_BRIDGE_DEFAULT_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    unset: "none",
    help: "deadline of a call that sends no grpc-timeout (clamped by --max-timeout)",
    takenBy: "plugin",
  }),
  streamIdleTimeout: setting({
    flag: "stream-idle-timeout",
    env: "GRPC_WEB_BRIDGE_STREAM_IDLE_TIMEOUT",
    arg: "DURATION",
    kind: duration("off"),
    default: 5 * 60_000,
    help: "a call with no byte either way this long (checked every eighth of it) ends UNAVAILABLE; 0: never",
    takenBy: "plugin",
  }),
  websocketFirstMessageTimeout: setting({
    flag: "websocket-first-message-timeout",
    env: "GRPC_WEB_BRIDGE_WEBSOCKET_FIRST_MESSAGE_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    default: 10_000,
    help: "a WebSocket call must send its request metadata within this of opening, or it closes (1008) DEADLINE_EXCEEDED",
    takenBy: "plugin",
  }),
  websocketPingInterval: setting({
    flag: "websocket-ping-interval",
    env: "GRPC_WEB_BRIDGE_WEBSOCKET_PING_INTERVAL",
    arg: "DURATION",
    kind: duration("off"),
    default: 30_000,
    help: "ping a WebSocket call silent this long; one that has not answered by the next ping is cancelled; 0: never",
    takenBy: "plugin",
  }),
  // Hardening (#15): the budget for buffered request bodies, and the TLS of old clients.
  maxBufferedRequestBytes: setting({
    flag: "max-buffered-request-bytes",
    env: "GRPC_WEB_BRIDGE_MAX_BUFFERED_REQUEST_BYTES",
    arg: "N",
    kind: count,
    unset: "1/8 of the memory the process may use (its cgroup's limit, else the machine's)",
    help: "request body bytes all calls of a process may hold at once, counted from each message's 5-byte header; a call that would go past it gets RESOURCE_EXHAUSTED before any of its body is held, and calls already holding theirs go on",
    takenBy: "plugin",
  }),
  tlsLegacyClients: setting({
    flag: "tls-legacy-clients",
    env: "GRPC_WEB_BRIDGE_TLS_LEGACY_CLIENTS",
    kind: boolean,
    default: false,
    help: "with --tls-cert, also accept TLS 1.0 and 1.1 and TLS 1.2 suites without forward secrecy or AEAD (Node's full list, OpenSSL security level 0), for old clients; otherwise TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305, or TLS 1.3",
    takenBy: "cli",
  }),
  headersTimeout: setting({
    flag: "headers-timeout",
    env: "GRPC_WEB_BRIDGE_HEADERS_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    default: 10_000,
    help: "HTTP/1.1 request headers must arrive within this",
    takenBy: "server",
  }),
  requestTimeout: setting({
    flag: "request-timeout",
    env: "GRPC_WEB_BRIDGE_REQUEST_TIMEOUT",
    arg: "DURATION",
    kind: duration(),
    default: 60_000,
    help: "a whole HTTP/1.1 request (headers and body) must arrive within this; responses are never timed",
    takenBy: "server",
  }),
  workers: setting({
    flag: "workers",
    env: "GRPC_WEB_BRIDGE_WORKERS",
    arg: "N|auto",
    kind: workers,
    default: 1,
    help: "processes sharing the ports (node:cluster); 'auto': one per CPU",
    takenBy: "cli",
  }),
  watchConfig: setting({
    flag: "watch-config",
    env: "GRPC_WEB_BRIDGE_WATCH_CONFIG",
    kind: boolean,
    default: false,
    help: "reload as on SIGHUP when the config file or a file it names (tokens, JWT key, CA, client certificate) changes; checked every second",
    takenBy: "cli",
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
/** What a setting's value is once checked: ms for durations, and so on. */
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
/** The settings each upstream may set for itself. */
export const PER_UPSTREAM_KEYS = SETTING_KEYS.filter((key) => (SETTINGS[key] as Setting).perUpstream);

/** The setting's default as --help and the table show it, or what happens without it. */
export function defaultText(row: Setting): string {
  return row.default === undefined ? (row.unset ?? "none") : row.kind.show(row.default);
}
