import type { ConfigProblem } from "../settings/config-file.js";
import { parseUpstreamAddress, type UpstreamAddress } from "./address.js";
import { parseRouteMatch, type Route } from "./routes.js";

/** How the proxy talks to an upstream: for all of them at the top level, or for one in `upstreams`. */
export interface UpstreamTuning {
  /**
   * Readiness asks the upstream's standard health service (`grpc.health.v1.Health/Check`)
   * about this service name, "" for the whole server; default: a connection is enough.
   */
  readonly healthCheckService?: string;
  /** A session still connecting after this long is given up; default 5 s. */
  readonly connectTimeoutMs?: number;
  /** An HTTP/2 PING on each session this often; default: none. */
  readonly keepaliveIntervalMs?: number;
  /** A PING unanswered this long closes its session; default 20 s. */
  readonly keepaliveTimeoutMs?: number;
  /** A session with no streams for this long is closed; default 5 min. */
  readonly sessionIdleTimeoutMs?: number;
  /** How often `dns:///` addresses are resolved again; default 10 s. */
  readonly dnsRefreshMs?: number;
}

const TUNING_KEYS = [
  "healthCheckService",
  "connectTimeoutMs",
  "keepaliveIntervalMs",
  "keepaliveTimeoutMs",
  "sessionIdleTimeoutMs",
  "dnsRefreshMs",
] as const satisfies readonly (keyof UpstreamTuning)[];

/** One named upstream. */
export interface UpstreamOptions extends UpstreamTuning {
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

export interface RoutingOptions extends UpstreamTuning {
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
  const entries = Object.entries(upstreams ?? {});
  if (entries.length === 0) {
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
  for (const [i, route] of routes.entries()) {
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
  defaults: UpstreamTuning,
  single: boolean,
  problems: ConfigProblem[],
): PlannedUpstream {
  // The single form's one address is `upstream` itself.
  const base = single ? ["upstream"] : ["upstreams", name];
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
  const tuning: { -readonly [K in keyof UpstreamTuning]: UpstreamTuning[K] } = {};
  for (const key of TUNING_KEYS) {
    const value = entry[key] ?? defaults[key];
    if (value === undefined) continue;
    if (key !== "healthCheckService" && !(typeof value === "number" && value > 0)) {
      problems.push({
        path: [...(entry[key] === undefined ? [] : base), key],
        message: `must be a positive number of milliseconds, got ${value}`,
      });
    }
    (tuning as Record<string, unknown>)[key] = value;
  }
  return { name, addresses, authority: entry.authority, tuning };
}
