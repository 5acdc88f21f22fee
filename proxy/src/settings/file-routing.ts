import { parseDuration } from "../protocol/timeout.js";
import {
  planRouting,
  type RouteOptions,
  type RoutingOptions,
  type UpstreamOptions,
  type UpstreamTuning,
} from "../upstream/routing.js";
import type { ConfigFileValues, ConfigProblem, KeyPath } from "./config-file.js";
import type { UpstreamEntry } from "./schema.js";

/** The `--health-check`/`healthCheck` value that asks about the whole server (service ""). */
export const WHOLE_SERVER = "server";

/** A duration setting: "30s" → 30000; undefined unless a positive duration. */
export function positiveDuration(text: string): number | undefined {
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

export function durationProblem(text: string): string {
  return `expected a duration like 500ms, 30s, 5m or 1h, got "${text}"`;
}

/** File keys of upstream settings that are durations, and the option each sets. */
const DURATION_KEYS = [
  ["connectTimeout", "connectTimeoutMs"],
  ["keepaliveInterval", "keepaliveIntervalMs"],
  ["keepaliveTimeout", "keepaliveTimeoutMs"],
  ["sessionIdleTimeout", "sessionIdleTimeoutMs"],
  ["dnsRefresh", "dnsRefreshMs"],
] as const satisfies readonly (readonly [keyof UpstreamEntry, keyof UpstreamTuning])[];

/**
 * The file's `upstream`, or its `upstreams` and `routes`, as plugin options; or every problem with
 * them, each naming its key and line. Top-level upstream settings are the flags' business.
 */
export function routingFromFile(file: ConfigFileValues): RoutingOptions | string[] {
  const { values } = file;
  const problems: ConfigProblem[] = [];
  let upstreams: Record<string, UpstreamOptions> | undefined;
  if (values.upstreams) {
    upstreams = {};
    for (const [name, entry] of Object.entries(values.upstreams)) {
      upstreams[name] = upstreamFromFile(entry, ["upstreams", name], problems);
    }
  }
  const routing: RoutingOptions = {
    ...(values.upstream !== undefined && { upstream: values.upstream }),
    ...(upstreams && { upstreams }),
    ...(values.routes && { routes: values.routes as RouteOptions[] }),
  };
  const plan = planRouting(routing);
  if (Array.isArray(plan)) problems.push(...plan);
  return problems.length > 0 ? file.report(problems) : routing;
}

function upstreamFromFile(entry: UpstreamEntry, path: KeyPath, problems: ConfigProblem[]): UpstreamOptions {
  const options: { -readonly [K in keyof UpstreamOptions]: UpstreamOptions[K] } = {
    addresses: entry.addresses,
  };
  if (entry.authority !== undefined) options.authority = entry.authority;
  if (entry.healthCheck !== undefined) {
    options.healthCheckService = entry.healthCheck === WHOLE_SERVER ? "" : entry.healthCheck;
  }
  for (const [key, option] of DURATION_KEYS) {
    const text = entry[key];
    if (text === undefined) continue;
    const ms = positiveDuration(text);
    if (ms === undefined) problems.push({ path: [...path, key], message: durationProblem(text) });
    options[option] = ms;
  }
  return options;
}
