// What a proxy holds at a moment (calls, upstream streams and sessions, memory), read from its metrics as an
// operator would: in process from ProxyOps, or from a CLI's admin /metrics.
import { waitFor } from "../../../testing/net.js";
import type { ProxyOps } from "../../src/index.js";

export interface ProxyLoad {
  readonly activeCalls: number;
  readonly upstreamStreams: number;
  /** Sessions in every state: connecting, connected, retiring. */
  readonly upstreamSessions: number;
  /** Resident memory of the process, when its process metrics are on. */
  readonly rssBytes: number | undefined;
}

/** Prometheus text → the sum of each metric's samples (labels summed over). */
export function metricSums(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (match) sums.set(match[1] as string, (sums.get(match[1] as string) ?? 0) + Number(match[2]));
  }
  return sums;
}

export function loadOf(metrics: string): ProxyLoad {
  const sums = metricSums(metrics);
  return {
    activeCalls: sums.get("grpc_web_bridge_active_calls") ?? 0,
    upstreamStreams: sums.get("grpc_web_bridge_upstream_streams") ?? 0,
    upstreamSessions: sums.get("grpc_web_bridge_upstream_sessions") ?? 0,
    rssBytes: sums.get("process_resident_memory_bytes"),
  };
}

export async function inProcessLoad(ops: ProxyOps): Promise<ProxyLoad> {
  return loadOf(await ops.metrics.registry.metrics());
}

export async function adminLoad(adminUrl: string): Promise<ProxyLoad> {
  return loadOf(await (await fetch(`${adminUrl}/metrics`)).text());
}

/** Waits until no call is in flight and no upstream stream open; the load then. */
export function settled(read: () => Promise<ProxyLoad>, timeoutMs = 5000): Promise<ProxyLoad> {
  return waitFor(async () => {
    const load = await read();
    return load.activeCalls === 0 && load.upstreamStreams === 0 ? load : undefined;
  }, timeoutMs);
}
