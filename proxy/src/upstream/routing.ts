import { type ConfigProblem, type KeyPath, unknownName } from "../settings/problems.js";
import { PER_UPSTREAM_KEYS, SETTINGS, type Setting } from "../settings/registry.js";
import { parseUpstreamAddress, type UpstreamAddress } from "./address.js";
import { parseRouteMatch, type Route } from "./routes.js";

/**
 * How the proxy talks to an upstream, as options and config keys say it: for all of them at the top level, or for
 * one in `upstreams`. Durations are text like "30s"; settings/registry.ts has each one's default and meaning.
 */
export interface UpstreamSettings {
  /** Readiness asks the upstream's grpc.health.v1 about this service ("server": the whole server). */
  readonly healthCheck?: string;
  readonly connectTimeout?: string;
  readonly keepaliveInterval?: string;
  readonly keepaliveTimeout?: string;
  readonly sessionIdleTimeout?: string;
  readonly dnsRefresh?: string;
}

/** The same settings checked, as the upstream's channel takes them. */
export interface UpstreamTuning {
  /** "" for the whole server; undefined: a connection is enough. */
  readonly healthCheckService?: string;
  readonly connectTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveTimeoutMs?: number;
  readonly sessionIdleTimeoutMs?: number;
  readonly dnsRefreshMs?: number;
}

/** Which field of the tuning each per-upstream setting fills. */
const TUNING = {
  healthCheck: "healthCheckService",
  connectTimeout: "connectTimeoutMs",
  keepaliveInterval: "keepaliveIntervalMs",
  keepaliveTimeout: "keepaliveTimeoutMs",
  sessionIdleTimeout: "sessionIdleTimeoutMs",
  dnsRefresh: "dnsRefreshMs",
} as const satisfies Record<keyof UpstreamSettings, keyof UpstreamTuning>;

/** The keys an entry of `upstreams` may have. */
const ENTRY_KEYS = ["addresses", "authority", ...PER_UPSTREAM_KEYS];

/** One named upstream. */
export interface UpstreamOptions extends UpstreamSettings {
  /** `http://host:port` (h2c), `https://host:port`, or `dns:///host:port` (h2c; `dns+https:///` for TLS) for every address of host. */
  readonly addresses: readonly (string | URL)[];
  /** `:authority` of its calls; default: the host:port of the first address. */
  readonly authority?: string;
}

export interface RouteOptions {
  /** `/package.Service/Method`, `package.Service`, `package.*` or `*`. */
  readonly match: string;
  /** The name of an upstream. */
  readonly upstream: string;
}

export interface RoutingOptions extends UpstreamSettings {
  /** The one upstream of every call; or name several in `upstreams` and route with `routes`. */
  readonly upstream?: string | URL;
  readonly upstreams?: Readonly<Record<string, UpstreamOptions>>;
  /** Which calls go to which upstream; needed with more than one. A call no route matches is UNIMPLEMENTED. */
  readonly routes?: readonly RouteOptions[];
}

export interface PlannedUpstream {
  readonly name: string;
  readonly addresses: readonly UpstreamAddress[];
  readonly authority: string | undefined;
  /** Its own settings over the top-level ones. */
  readonly tuning: UpstreamTuning;
}

export interface RoutingPlan {
  readonly upstreams: readonly PlannedUpstream[];
  readonly routes: readonly Route<string>[];
}

/** The name `upstream` (the single-upstream form) goes by. */
export const DEFAULT_UPSTREAM = "default";
/** Checks the upstreams and routes; every problem names its key, so a config file can say its line. */
export function planRouting(options: RoutingOptions): RoutingPlan | ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { upstream, routes } = options;
  const upstreams = namedUpstreams(options, problems).map(([name, entry]) =>
    planUpstream(name, entry, options, upstream !== undefined, problems),
  );
  const names = upstreams.map(({ name }) => name);
  const table = routes === undefined ? catchAll(names, problems) : planRoutes(routes, names, problems);
  return problems.length > 0 ? problems : { upstreams, routes: table };
}

/** `upstream` as the one upstream named DEFAULT_UPSTREAM, or the entries of `upstreams`. */
function namedUpstreams(options: RoutingOptions, problems: ConfigProblem[]): [string, UpstreamOptions][] {
  const { upstream, upstreams, routes } = options;
  if (upstream !== undefined) {
    if (upstreams !== undefined) {
      problems.push({
        path: ["upstreams"],
        message: "set upstream (one for every call) or upstreams, not both",
      });
    }
    if (routes !== undefined) {
      problems.push({ path: ["routes"], message: "routes name upstreams: define them under upstreams" });
    }
    return [[DEFAULT_UPSTREAM, { addresses: [upstream] }]];
  }
  if (upstreams !== undefined && !isRecord(upstreams)) {
    problems.push({ path: ["upstreams"], message: "expected an object of named upstreams" });
    return [];
  }
  const entries = Object.entries(upstreams ?? {}).filter(([name, entry]) => {
    const path = ["upstreams", name];
    if (!isRecord(entry)) problems.push({ path, message: "expected an object with addresses" });
    else if (!Array.isArray(entry.addresses)) {
      problems.push({ path: [...path, "addresses"], message: "expected a list of addresses" });
    } else {
      for (const key of Object.keys(entry).filter((k) => !ENTRY_KEYS.includes(k))) {
        problems.push({ path: [...path, key], message: unknownName("key", key, ENTRY_KEYS), atKey: true });
      }
      return true;
    }
    return false;
  });
  if (entries.length === 0 && problems.length === 0) {
    problems.push({ path: ["upstream"], message: "required: the gRPC backend, e.g. http://127.0.0.1:50051" });
  }
  return entries;
}

/** Without routes, every call goes to the one upstream there is. */
function catchAll(names: readonly string[], problems: ConfigProblem[]): Route<string>[] {
  const [only] = names;
  if (names.length > 1) {
    problems.push({
      path: ["routes"],
      message: `required with more than one upstream (${names.join(", ")})`,
    });
  }
  return only === undefined ? [] : [{ match: { kind: "any" }, target: only }];
}

function planRoutes(
  routes: readonly RouteOptions[],
  names: readonly string[],
  problems: ConfigProblem[],
): Route<string>[] {
  const table: Route<string>[] = [];
  const seen = new Map<string, number>();
  if (!Array.isArray(routes)) {
    problems.push({ path: ["routes"], message: "expected a list of { match, upstream }" });
    return table;
  }
  for (const [i, route] of routes.entries()) {
    if (!isRecord(route) || typeof route.match !== "string" || typeof route.upstream !== "string") {
      problems.push({ path: ["routes", i], message: "expected { match, upstream }, both text" });
      continue;
    }
    const match = parseRouteMatch(route.match);
    if (typeof match === "string") problems.push({ path: ["routes", i, "match"], message: match });
    else table.push({ match, target: route.upstream });
    const earlier = seen.get(route.match);
    if (earlier !== undefined) {
      problems.push({ path: ["routes", i, "match"], message: `the same match as routes[${earlier}]` });
    }
    seen.set(route.match, i);
    if (!names.includes(route.upstream)) {
      problems.push({
        path: ["routes", i, "upstream"],
        message: `no upstream named "${route.upstream}" (upstreams: ${names.join(", ") || "none"})`,
      });
    }
  }
  return table;
}

/** One upstream's addresses, parsed, and its settings over the top-level ones. */
function planUpstream(
  name: string,
  entry: UpstreamOptions,
  defaults: UpstreamSettings,
  single: boolean,
  problems: ConfigProblem[],
): PlannedUpstream {
  // The single form's one address is `upstream` itself.
  const base: KeyPath = single ? ["upstream"] : ["upstreams", name];
  const addressPath = (i: number) => (single ? base : [...base, "addresses", i]);
  if (entry.addresses.length === 0) {
    problems.push({ path: [...base, "addresses"], message: "needs at least one address" });
  }
  const addresses: UpstreamAddress[] = [];
  for (const [i, text] of entry.addresses.entries()) {
    const address = parseUpstreamAddress(text);
    if (typeof address === "string") problems.push({ path: addressPath(i), message: address });
    else addresses.push(address);
  }
  const tuning: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(TUNING) as [keyof typeof TUNING, keyof UpstreamTuning][]) {
    const kind = (SETTINGS[key] as Setting).kind;
    const own = entry[key];
    if (own !== undefined) {
      const checked = kind.check(own);
      if (checked.ok) tuning[field] = checked.value;
      else problems.push({ path: [...base, key], message: checked.why });
      continue;
    }
    // A top-level value is checked where it is given (a flag, the file, the plugin's options): a bad one is skipped.
    const inherited = defaults[key] === undefined ? undefined : kind.check(defaults[key]);
    if (inherited?.ok) tuning[field] = inherited.value;
  }
  return { name, addresses, authority: entry.authority, tuning: tuning as UpstreamTuning };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
