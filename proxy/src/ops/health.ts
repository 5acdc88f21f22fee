import { codeName, GrpcError } from "../protocol/status.js";
import type { SessionStates } from "../upstream/pool.js";
import type { Upstream } from "../upstream/upstream.js";
import { checkHealth } from "./health-check.js";
import type { ServingStatus } from "./health-codec.js";

/** An upstream as health sees it. */
export interface WatchedUpstream {
  readonly upstream: Upstream;
  /** Readiness asks the backend's grpc.health.v1 service about this name ("" for the whole server); undefined: a connection is enough. */
  readonly healthCheckService: string | undefined;
}

export interface UpstreamHealth {
  /** The upstream's name, as routes and metrics know it. */
  readonly name: string;
  /** Its addresses as configured, comma-separated. */
  readonly addresses: string;
  readonly connected: boolean;
  readonly sessions: SessionStates;
  readonly activeStreams: number;
}

export interface UpstreamReadiness extends UpstreamHealth {
  readonly ready: boolean;
  /** The health check's answer; no status when it failed (see reason). */
  readonly healthCheck?: { readonly service: string; readonly status?: ServingStatus };
  /** Why it is not ready. */
  readonly reason?: string;
}

export interface LivenessReport {
  readonly status: "serving";
  readonly draining: boolean;
  readonly upstreams: UpstreamHealth[];
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly upstreams: UpstreamReadiness[];
  /** The version (a hash) of the configuration served, when a CLI or host app set one. */
  readonly configVersion?: string;
}

/**
 * Under Kubernetes' default 1 s probe timeout, so that a slow backend reads as
 * "not ready" with a reason rather than as a probe that timed out.
 */
export const PROBE_TIMEOUT_MS = 800;

/** Liveness: the process serves. Upstreams are described, never probed. */
export function liveness(upstreams: Iterable<WatchedUpstream>, draining: boolean): LivenessReport {
  return {
    status: "serving",
    draining,
    upstreams: Array.from(upstreams, ({ upstream }) => describe(upstream)),
  };
}

/**
 * Readiness: not draining, and every upstream connected (opening a session when
 * there is none) and, where configured, reporting SERVING to a health check.
 */
export async function readiness(
  upstreams: Iterable<WatchedUpstream>,
  draining: boolean,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ReadinessReport> {
  if (draining) {
    const report = Array.from(upstreams, ({ upstream }) => ({
      ...describe(upstream),
      ready: false,
      reason: "draining",
    }));
    return { ready: false, draining, upstreams: report };
  }
  const report = await Promise.all(Array.from(upstreams, (upstream) => probe(upstream, timeoutMs)));
  return { ready: report.length > 0 && report.every((u) => u.ready), draining, upstreams: report };
}

async function probe(
  { upstream, healthCheckService: service }: WatchedUpstream,
  timeoutMs: number,
): Promise<UpstreamReadiness> {
  if (service === undefined) {
    const connected = await withTimeout(upstream.connect(), timeoutMs, false);
    const reason = connected ? undefined : `cannot connect to ${upstream.addresses}`;
    return { ...describe(upstream), ready: connected, ...(reason && { reason }) };
  }
  const answer = await checkHealth(upstream, service, timeoutMs);
  if (answer instanceof GrpcError) {
    const reason = `health check failed: ${codeName(answer.code)}: ${answer.message}`;
    return { ...describe(upstream), ready: false, healthCheck: { service }, reason };
  }
  const ready = answer === "SERVING";
  return {
    ...describe(upstream),
    ready,
    healthCheck: { service, status: answer },
    ...(!ready && { reason: `the backend's health service says ${answer}` }),
  };
}

function describe(upstream: Upstream): UpstreamHealth {
  return {
    name: upstream.name,
    addresses: upstream.addresses,
    connected: upstream.connected,
    sessions: upstream.sessionStates,
    activeStreams: upstream.activeStreams,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(resolve, ms, fallback);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
