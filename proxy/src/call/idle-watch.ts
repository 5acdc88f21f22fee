/** Ticks per idle limit: a call ends after between the limit and an eighth more of silence. */
const TICKS_PER_LIMIT = 8;

/** A call the watch can end; `activeTick` is the watch's `tick` when a byte last went either way. */
export interface IdleWatched {
  readonly activeTick: number;
  idle(idleMs: number): void;
}

/**
 * The open calls that share one idle limit, each ended once it has gone that long without a byte either way.
 * One interval serves them all while any is open: a timer per call cost every open call a Timeout (about
 * 0.23 KiB) and every chunk a refresh, which reads the clock; here a call marks itself active with a field write.
 */
export class IdleWatch {
  static readonly #byLimit = new Map<number, IdleWatch>();

  /** The watch for `idleMs`, shared by every call with that limit (a reload may bring another). */
  static for(idleMs: number): IdleWatch {
    let watch = IdleWatch.#byLimit.get(idleMs);
    if (watch === undefined) {
      watch = new IdleWatch(idleMs);
      IdleWatch.#byLimit.set(idleMs, watch);
    }
    return watch;
  }

  readonly idleMs: number;
  #tick = 0;
  readonly #calls = new Set<IdleWatched>();
  #interval: NodeJS.Timeout | undefined;

  private constructor(idleMs: number) {
    this.idleMs = idleMs;
  }

  /** Counts up every limit / TICKS_PER_LIMIT while calls are watched. */
  get tick(): number {
    return this.#tick;
  }

  add(call: IdleWatched): void {
    this.#calls.add(call);
    if (this.#interval === undefined) {
      this.#interval = setInterval(IdleWatch.#sweep, Math.max(1, this.idleMs / TICKS_PER_LIMIT), this);
    } else if (this.#calls.size === 1) {
      this.#interval.ref();
    }
  }

  /** With no call left, the interval no longer keeps the process alive, as a timer per call did not. */
  delete(call: IdleWatched): void {
    if (this.#calls.delete(call) && this.#calls.size === 0) this.#interval?.unref();
  }

  /**
   * A call was last active some time within the tick it recorded, so it is ended once more than a limit's worth of
   * ticks have passed since: after more than the limit of silence, and at most an eighth more. The interval stops at
   * the first tick that finds no call, not when the last one ends: one unary call after another does not start and
   * stop it every time.
   */
  static #sweep(watch: IdleWatch): void {
    if (watch.#calls.size === 0) {
      clearInterval(watch.#interval);
      watch.#interval = undefined;
      return;
    }
    const tick = ++watch.#tick;
    for (const call of watch.#calls) {
      if (tick - call.activeTick > TICKS_PER_LIMIT) call.idle(watch.idleMs);
    }
  }
}
