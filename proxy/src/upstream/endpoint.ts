import { type PoolOptions, UpstreamPool, type UpstreamTarget } from "./pool.js";

/** What an upstream says about itself to the operator. */
export interface UpstreamLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface EjectionOptions {
  /** First wait before an address that failed to connect is tried again (default 1 s). */
  readonly baseMs?: number;
  /** Longest wait; each failed retry doubles it up to this (default 30 s). */
  readonly maxMs?: number;
}

const DEFAULT_EJECTION_BASE_MS = 1_000;
const DEFAULT_EJECTION_MAX_MS = 30_000;

/**
 * One address of an upstream: its session pool, and whether calls should go there. An address that
 * fails to connect is ejected: calls go to the others while it waits out a backoff, then one
 * connection attempt (not a call) decides whether it comes back or waits twice as long.
 */
export class Endpoint {
  readonly pool: UpstreamPool;
  readonly #log: UpstreamLog;
  readonly #baseMs: number;
  readonly #maxMs: number;
  #ejected = false;
  #backoffMs: number;
  /** Set while an ejected address waits out its backoff. */
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    target: UpstreamTarget,
    options: { pool: PoolOptions; ejection: EjectionOptions; log: UpstreamLog },
  ) {
    this.#log = options.log;
    this.#baseMs = options.ejection.baseMs ?? DEFAULT_EJECTION_BASE_MS;
    this.#maxMs = options.ejection.maxMs ?? DEFAULT_EJECTION_MAX_MS;
    this.#backoffMs = this.#baseMs;
    this.pool = new UpstreamPool(target, {
      ...options.pool,
      onConnect: this.#onConnect,
      onConnectFailure: this.#onConnectFailure,
    });
  }

  /** False while ejected. */
  get healthy(): boolean {
    return !this.#ejected;
  }

  /** Stops retrying; sessions close once their streams end. */
  close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    return this.pool.close();
  }

  readonly #onConnect = (): void => {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoffMs = this.#baseMs;
    if (!this.#ejected) return;
    this.#ejected = false;
    this.#log.info(`upstream address ${this.pool.address} is back`);
  };

  readonly #onConnectFailure = (error: Error): void => {
    // Calls still sent here while waiting (when every address is ejected) change nothing.
    if (this.#closed || this.#retryTimer) return;
    if (this.#ejected) this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxMs);
    else this.#log.warn(`upstream address ${this.pool.address} ejected: ${error.message}`);
    this.#ejected = true;
    this.#retryTimer = setTimeout(this.#retry, this.#backoffMs).unref();
  };

  readonly #retry = (): void => {
    this.#retryTimer = undefined;
    void this.pool.connect();
  };
}
