import type { FastifyRequest } from "fastify";
import { Code, GrpcError } from "../protocol/status.js";
import type { UpstreamChannel } from "../upstream/channel.js";
import { logCall } from "./access-log.js";
import { type LivenessReport, liveness, type ReadinessReport, readiness, type Upstream } from "./health.js";
import { InFlightCalls } from "./in-flight.js";
import { ProxyMetrics, type RejectReason } from "./metrics.js";
import { type CallInfo, type CallTracking, TrackedCall } from "./tracked-call.js";

export interface ProxyOpsOptions {
  /** Also export the process's own metrics (CPU, memory, event loop, GC); default true. */
  readonly processMetrics?: boolean;
}

/**
 * What operators see and steer: metrics, health and the drain of one or more
 * proxy plugins. Pass one to the plugin (`ops` option), serve it with
 * `buildAdminServer`, and drain it on shutdown.
 */
export class ProxyOps implements CallTracking {
  readonly calls = new InFlightCalls();
  readonly metrics: ProxyMetrics;
  readonly #upstreams = new Set<Upstream>();
  #draining = false;

  constructor(options: ProxyOpsOptions = {}) {
    this.metrics = new ProxyMetrics(
      { activeCalls: () => this.calls.size, upstreams: () => this.#pools() },
      { processMetrics: options.processMetrics ?? true },
    );
  }

  /** True from the start of a drain: readiness fails and new calls are refused. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Adds a backend to health and metrics; returns what takes it out again. */
  addUpstream(pool: UpstreamChannel, healthCheckService: string | undefined): () => void {
    const upstream = { pool, healthCheckService };
    this.#upstreams.add(upstream);
    return () => this.#upstreams.delete(upstream);
  }

  /** A call about to be bridged. */
  track(request: FastifyRequest, info: CallInfo): TrackedCall {
    return new TrackedCall(this, request, info);
  }

  /** Counts and logs a call the proxy answered itself with `code`, before any backend saw it. */
  refused(
    request: FastifyRequest,
    requestId: string,
    path: string,
    reason: RejectReason,
    code: number,
  ): void {
    this.metrics.rejected(reason);
    logCall(
      request,
      { requestId, path, upstream: undefined, startedAt: performance.now() },
      {
        code,
        bytesIn: 0,
        bytesOut: 0,
      },
    );
  }

  liveness(): LivenessReport {
    return liveness(this.#upstreams, this.#draining);
  }

  readiness(): Promise<ReadinessReport> {
    return readiness(this.#upstreams, this.#draining);
  }

  /**
   * Starts draining at once (readiness false, new calls answered UNAVAILABLE),
   * gives the calls in flight `graceMs` to end, then ends the rest with
   * UNAVAILABLE; resolves to how many it had to end.
   */
  drain(graceMs: number): Promise<number> {
    this.#draining = true;
    return this.calls.settle(graceMs, new GrpcError(Code.UNAVAILABLE, "the proxy is shutting down"));
  }

  *#pools(): Iterable<UpstreamChannel> {
    for (const { pool } of this.#upstreams) yield pool;
  }
}
