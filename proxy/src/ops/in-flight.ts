import type { GrpcError } from "../protocol/status.js";
import { MAX_TIMER_MS } from "../protocol/timeout.js";

export interface Abortable {
  abort(error: GrpcError): void;
}

/** The calls in flight, so that a draining proxy can wait for them and end the last ones. */
export class InFlightCalls {
  readonly #calls = new Set<Abortable>();
  #onIdle: (() => void) | undefined;

  get size(): number {
    return this.#calls.size;
  }

  add(call: Abortable): void {
    this.#calls.add(call);
  }

  delete(call: Abortable): void {
    this.#calls.delete(call);
    if (this.#calls.size === 0) this.#onIdle?.();
  }

  /** Waits up to `graceMs` for every call to end, then ends the rest with `error`; resolves to how many it ended. */
  async settle(graceMs: number, error: GrpcError): Promise<number> {
    if (this.#calls.size > 0) {
      await new Promise<void>((resolve) => {
        // A longer delay would fire after 1 ms, ending every call at once.
        const timer = setTimeout(resolve, Math.min(graceMs, MAX_TIMER_MS));
        this.#onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#onIdle = undefined;
    }
    const rest = [...this.#calls];
    for (const call of rest) {
      call.abort(error);
      this.#calls.delete(call);
    }
    return rest.length;
  }
}
