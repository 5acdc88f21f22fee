import { describeCause, type Refusal } from "../call/outcome.js";
import { Code, GrpcError } from "../protocol/status.js";
import type { CallTracer, CallTransport } from "../tracing/tracer.js";
import type { Upstream } from "../upstream/upstream.js";
import {
  type LivenessReport,
  liveness,
  type ReadinessReport,
  readiness,
  type WatchedUpstream,
} from "./health.js";
import { InFlightCalls } from "./in-flight.js";
import { ProxyMetrics } from "./metrics.js";
import type { ServedRequest } from "./served-request.js";
import { type CallInfo, type CallTracking, record, TrackedCall, transportOf } from "./tracked-call.js";

/** A plugin's part in a reload: it checks and builds what new options serve, then switches to it or drops it. */
export interface Reloadable {
  /** Throws (a TypeError listing every problem) when `options` cannot serve; changes nothing either way. */
  prepare(options: object): Promise<PreparedReload>;
}

export interface PreparedReload {
  /** New calls get the new settings; calls in flight keep theirs. */
  commit(): void;
  /** Another plugin refused the reload: undo what `prepare` started. */
  discard(): Promise<void>;
}

export interface ProxyOpsOptions {
  /** Also export the process's own metrics (CPU, memory, event loop, GC); default true. */
  readonly processMetrics?: boolean;
  /** A span per call (`startTracing`); default none. */
  readonly tracer?: CallTracer;
}

/**
 * What operators see and steer: metrics, health and the drain of one or more
 * proxy plugins. Pass one to the plugin (`ops` option), serve it with
 * `buildAdminServer`, and drain it on shutdown.
 */
export class ProxyOps implements CallTracking {
  readonly calls = new InFlightCalls();
  readonly metrics: ProxyMetrics;
  /** A span per call when set; the CLI sets it once tracing has started, before the proxy listens. */
  tracer: CallTracer | undefined;
  /** The version (a hash) of the configuration being served, for /readyz; set by whoever loads it. */
  configVersion: string | undefined;
  readonly #upstreams = new Set<WatchedUpstream>();
  readonly #bodyBudgets = new Set<{ readonly held: number }>();
  readonly #reloadables = new Set<Reloadable>();
  #draining = false;

  constructor(options: ProxyOpsOptions = {}) {
    this.metrics = new ProxyMetrics(
      {
        activeCalls: () => this.calls.size,
        bufferedRequestBytes: () => {
          let held = 0;
          for (const budget of this.#bodyBudgets) held += budget.held;
          return held;
        },
        upstreams: () => this.#watched(),
      },
      { processMetrics: options.processMetrics ?? true },
    );
    this.tracer = options.tracer;
  }

  /** True from the start of a drain: readiness fails and new calls are refused. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Adds an upstream to health and metrics; returns what takes it out again. */
  addUpstream(upstream: Upstream, healthCheckService: string | undefined): () => void {
    const watched = { upstream, healthCheckService };
    this.#upstreams.add(watched);
    return () => this.#upstreams.delete(watched);
  }

  /** Adds a plugin's request body budget to metrics; returns what takes it out again. */
  addBodyBudget(budget: { readonly held: number }): () => void {
    this.#bodyBudgets.add(budget);
    return () => this.#bodyBudgets.delete(budget);
  }

  /** Adds a plugin to `reload`; returns what takes it out again. */
  addReloadable(reloadable: Reloadable): () => void {
    this.#reloadables.add(reloadable);
    return () => this.#reloadables.delete(reloadable);
  }

  /**
   * Serves new calls with new plugin options (each plugin's as at registration, with `ops`), all or nothing: when
   * any plugin refuses them, every one keeps its old settings and the error is thrown. Calls in flight keep the
   * settings they started with.
   */
  async reload(options: object): Promise<void> {
    const prepared: PreparedReload[] = [];
    try {
      for (const reloadable of this.#reloadables) prepared.push(await reloadable.prepare(options));
    } catch (error) {
      await Promise.all(prepared.map((p) => p.discard()));
      throw error;
    }
    for (const p of prepared) p.commit();
  }

  /** A call about to be bridged. */
  track(request: ServedRequest, info: CallInfo): TrackedCall {
    return new TrackedCall(this, request, info);
  }

  /** Counts, logs and traces a call the proxy refused before it began. */
  refused(
    request: ServedRequest,
    requestId: string,
    path: string,
    { error, cause }: Refusal,
    transport: CallTransport = transportOf(request),
  ): void {
    const call = { requestId, path, upstream: undefined, startedAt: performance.now(), transport };
    this.tracer?.startCall({ path, headers: request.headers, transport, upstream: undefined }).end({
      code: error.code,
      message: error.message,
      bytesIn: 0,
      bytesOut: 0,
      cause: describeCause(cause),
    });
    record(this.metrics, request, call, {
      code: error.code,
      cause,
      forwarded: false,
      bytesIn: 0,
      bytesOut: 0,
      messagesOut: 0,
      respondedAt: undefined,
    });
  }

  liveness(): LivenessReport {
    return liveness(this.#upstreams, this.#draining);
  }

  async readiness(): Promise<ReadinessReport> {
    const report = await readiness(this.#upstreams, this.#draining);
    return this.configVersion === undefined ? report : { ...report, configVersion: this.configVersion };
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

  *#watched(): Iterable<Upstream> {
    for (const { upstream } of this.#upstreams) yield upstream;
  }
}
