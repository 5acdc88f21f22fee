// The proxy with its operations side: an admin listener next to it, and a reader of /metrics.
import assert from "node:assert/strict";
import { buildAdminServer, ProxyOps, type ServerOptions } from "../../src/index.js";
import { type RunningProxy, startProxy } from "./proxy.js";

export interface ObservedProxy extends RunningProxy {
  readonly ops: ProxyOps;
  /** http://127.0.0.1:PORT of the admin listener. */
  readonly adminUrl: string;
}

/** The proxy and its admin listener, each on a free loopback port. */
export async function startObservedProxy(
  upstream: string | undefined,
  options: Omit<ServerOptions, "upstream" | "ops"> = {},
): Promise<ObservedProxy> {
  const ops = new ProxyOps();
  const proxy = await startProxy(upstream, { ...options, ops });
  const admin = buildAdminServer(ops);
  const adminUrl = await admin.listen({ host: "127.0.0.1", port: 0 });
  return {
    ...proxy,
    ops,
    adminUrl,
    close: async () => {
      await admin.close();
      await proxy.close();
    },
  };
}

/** GET on the admin listener: the status and the JSON body, taken to be a `T`. */
export async function getJson<T>(adminUrl: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(adminUrl + path);
  return { status: response.status, body: (await response.json()) as T };
}

/** The samples of a Prometheus text exposition, keyed `name{label="value",…}` as printed. */
export async function scrape(adminUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${adminUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The key `scrape` uses for `name` with `labels`, in the order given (prom-client prints them so). */
export function sample(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(",")}}`;
}
