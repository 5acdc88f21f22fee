// The one schema of the config file (`--config bridge.yaml`, YAML or JSON). Every key that a flag also sets
// has the flag's name in camelCase and takes the flag's text (durations like "30s", "HOST:PORT"); the file
// adds `upstreams` and `routes`. The schema checks shapes and names; values are checked where the flags'
// are, so a bad value says the same thing wherever it came from. Add new keys here, nowhere else.
import Type, { type Static } from "typebox";

/** pino levels, and "silent". */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const duration = Type.String({ description: "a duration: 500ms, 30s, 5m, 1h" });

/**
 * How the proxy talks to an upstream. At the top level they apply to every upstream; an entry of
 * `upstreams` may set them again for itself.
 */
const upstreamSettings = {
  /** Readiness asks the upstream's grpc.health.v1 about this service ("server": the whole server). */
  healthCheck: Type.Optional(Type.String()),
  /** A connection not up within this is given up (and the address ejected). */
  connectTimeout: Type.Optional(duration),
  /** An HTTP/2 PING this often on each session; off unless set. */
  keepaliveInterval: Type.Optional(duration),
  /** A PING not answered within this closes its session. */
  keepaliveTimeout: Type.Optional(duration),
  /** A session without streams for this long is closed. */
  sessionIdleTimeout: Type.Optional(duration),
  /** How often `dns:///` addresses are resolved again. */
  dnsRefresh: Type.Optional(duration),
};

const file = Type.String({ minLength: 1, description: "a file path" });
const count = Type.Integer({ minimum: 1 });

/** TLS both ways, bearer auth, limits and timeouts, workers: the keys of cli/serving-flags.ts. */
const servingSettings = {
  tlsCert: Type.Optional(file),
  tlsKey: Type.Optional(file),
  upstreamCa: Type.Optional(file),
  upstreamCert: Type.Optional(file),
  upstreamKey: Type.Optional(file),
  upstreamServerName: Type.Optional(Type.String({ minLength: 1 })),
  upstreamInsecureSkipVerify: Type.Optional(Type.Boolean()),
  authTokensFile: Type.Optional(file),
  authJwtKey: Type.Optional(file),
  authJwtIssuer: Type.Optional(Type.String({ minLength: 1 })),
  authJwtAudience: Type.Optional(Type.String({ minLength: 1 })),
  maxResponseMessageBytes: Type.Optional(count),
  maxHeaderBytes: Type.Optional(count),
  maxConcurrentCalls: Type.Optional(count),
  maxCallsPerConnection: Type.Optional(count),
  defaultTimeout: Type.Optional(duration),
  /** "0" turns it off. */
  streamIdleTimeout: Type.Optional(duration),
  headersTimeout: Type.Optional(duration),
  requestTimeout: Type.Optional(duration),
  workers: Type.Optional(Type.Union([count, Type.Literal("auto")])),
};

const UpstreamSchema = Type.Object(
  {
    /** `http://host:port` (h2c), `https://host:port`, or `dns:///host:port` (h2c; `dns+https:///` for TLS) for every A/AAAA record of host. */
    addresses: Type.Array(Type.String(), { minItems: 1 }),
    /** `:authority` sent upstream; default: the host:port of `dns:///` or of the first address. */
    authority: Type.Optional(Type.String({ minLength: 1 })),
    ...upstreamSettings,
  },
  { additionalProperties: false },
);

const RouteSchema = Type.Object(
  {
    /** `/package.Service/Method`, `package.Service`, `package.*`, or `*`. */
    match: Type.String(),
    /** A name from `upstreams`. */
    upstream: Type.String(),
  },
  { additionalProperties: false },
);

export const ConfigFileSchema = Type.Object(
  {
    listen: Type.Optional(Type.String()),
    /** One upstream for every call; or use `upstreams` and `routes`. */
    upstream: Type.Optional(Type.String()),
    allowedOrigins: Type.Optional(Type.Array(Type.String())),
    maxTimeout: Type.Optional(duration),
    maxMessageBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    logLevel: Type.Optional(Type.Enum(LOG_LEVELS)),
    adminListen: Type.Optional(Type.String()),
    drainTimeout: Type.Optional(duration),
    ...upstreamSettings,
    ...servingSettings,
    upstreams: Type.Optional(Type.Record(Type.String(), UpstreamSchema, { minProperties: 1 })),
    routes: Type.Optional(Type.Array(RouteSchema)),
  },
  { additionalProperties: false },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
export type UpstreamEntry = Static<typeof UpstreamSchema>;
export type RouteEntry = Static<typeof RouteSchema>;
