import type { Histogram } from "prom-client";
import type { CallOutcome } from "../call/outcome.js";
import { Code } from "../protocol/status.js";

export type SeriesLabels = {
  readonly service: string;
  readonly method: string;
  readonly mode: "binary" | "text";
  readonly transport: "http" | "websocket";
};

const CODE_COUNT = Object.keys(Code).length;

/**
 * The counts of one method in one mode over one transport, taken when its calls end. A call bumps plain numbers — a
 * prom-client `inc` hashes its labels every time — which the registry copies at
 * scrape time. The two histograms are prom-client children, resolved once.
 */
export class CallSeries {
  readonly labels: SeriesLabels;
  /** Calls ended, and of them those sent on to a backend. */
  ended = 0;
  started = 0;
  /** Finished calls by gRPC code; codes beyond the table count as UNKNOWN, as clients read them. */
  readonly finished: number[] = new Array(CODE_COUNT).fill(0);
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly #duration: ReturnType<Histogram["labels"]>;
  readonly #firstByte: ReturnType<Histogram["labels"]>;

  constructor(labels: SeriesLabels, duration: Histogram, firstByte: Histogram) {
    this.labels = labels;
    this.#duration = duration.labels(labels);
    this.#firstByte = firstByte.labels(labels);
  }

  /** Counts a finished call that started at `startedAt`, a `performance.now()` time. */
  finish(outcome: CallOutcome, startedAt: number): void {
    const { code } = outcome;
    this.ended++;
    if (outcome.forwarded) this.started++;
    const known = code >= 0 && code < CODE_COUNT ? code : Code.UNKNOWN;
    this.finished[known] = (this.finished[known] ?? 0) + 1;
    if (outcome.bytesIn > 0) this.messagesIn++;
    this.messagesOut += outcome.messagesOut;
    this.bytesIn += outcome.bytesIn;
    this.bytesOut += outcome.bytesOut;
    this.#duration.observe((performance.now() - startedAt) / 1000);
    if (outcome.respondedAt !== undefined) this.#firstByte.observe((outcome.respondedAt - startedAt) / 1000);
  }
}
