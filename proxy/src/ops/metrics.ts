import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CallOutcome, LimitName } from "../call/outcome.js";
import { Code, codeName } from "../protocol/status.js";
import type { Upstream } from "../upstream/upstream.js";
import { CallSeries, type SeriesLabels } from "./call-series.js";

/** Why the proxy answered a request itself instead of calling the backend. */
export const REJECT_REASONS = [
  "host",
  "cors",
  "content_type",
  "route",
  "limit",
  "malformed",
  "interceptor",
  "draining",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** How a configuration reload went: `failed` left the old configuration serving. */
export type ReloadResult = "ok" | "failed";

/** What the gauges read at scrape time. */
export interface MetricSources {
  activeCalls(): number;
  /** Request body bytes held against the plugins' budgets. */
  bufferedRequestBytes(): number;
  upstreams(): Iterable<Upstream>;
}

const PREFIX = "grpc_web_bridge_";
const SERIES_LABELS = ["service", "method", "mode", "transport"];
/** A browser may name any method; past this many, new ones share one series so memory stays bounded. */
const MAX_METHOD_SERIES = 500;
/** Longest service or method name with a series of its own: a browser chooses a path's length (up to 64 KiB). */
export const MAX_LABEL_CHARS = 128;
/** The label values of the series shared by methods without one of their own. */
export const OTHER = "_other";
/** The label values of the series shared by every call the proxy answered before a backend saw it. */
export const NOT_FORWARDED = "_not_forwarded";
const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
const FIRST_BYTE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * How a call reached the proxy, as its series' `mode` and `transport` labels: gRPC-Web binary or text
 * over HTTP (either version), or over a WebSocket, which carries binary only.
 */
const FORMS = {
  binary: { mode: "binary", transport: "http" },
  text: { mode: "text", transport: "http" },
  websocket: { mode: "binary", transport: "websocket" },
} as const satisfies Record<string, Pick<SeriesLabels, "mode" | "transport">>;
export type CallForm = keyof typeof FORMS;

/** A method's series, one per form. */
type MethodSeries = Readonly<Record<CallForm, CallSeries>>;
type Sample = readonly [labels: Readonly<Record<string, string>>, value: number];

/** The proxy's Prometheus metrics, in a registry of its own, plus the process metrics when asked for. */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #series = new Map<string, MethodSeries>();
  /** The series shared by the methods without one of their own. */
  #other: MethodSeries | undefined;
  #notForwarded: MethodSeries | undefined;
  readonly #rejected = new Map<RejectReason, number>(REJECT_REASONS.map((reason) => [reason, 0]));
  readonly #limits = new Map<LimitName, number>();
  readonly #reloads = new Map<ReloadResult, number>([
    ["ok", 0],
    ["failed", 0],
  ]);
  readonly #duration: Histogram;
  readonly #firstByte: Histogram;

  constructor(sources: MetricSources, options: { processMetrics: boolean }) {
    const registers = [this.registry];
    this.#duration = new Histogram({
      name: `${PREFIX}call_duration_seconds`,
      help: "Time from a call's request to its end, as the proxy saw it.",
      labelNames: SERIES_LABELS,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#firstByte = new Histogram({
      name: `${PREFIX}call_first_byte_seconds`,
      help: "Time from a call's request to the backend's response headers.",
      labelNames: SERIES_LABELS,
      buckets: FIRST_BYTE_BUCKETS,
      registers,
    });
    const perSeries = (read: (s: CallSeries) => number) => () =>
      mapSeries(this.#used(), (s) => [[s.labels, read(s)]]);
    const counter = (name: string, help: string, labelNames: string[], samples: () => Iterable<Sample>) =>
      new Counter({
        name: `${PREFIX}${name}`,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const [labels, value] of samples()) this.inc(labels, value);
        },
      });
    counter(
      "calls_started_total",
      "Calls sent on to a backend, counted when they end.",
      SERIES_LABELS,
      perSeries((s) => s.started),
    );
    counter("calls_finished_total", "Calls ended, by gRPC status code.", [...SERIES_LABELS, "code"], () =>
      mapSeries(this.#used(), finishedByCode),
    );
    counter(
      "request_messages_total",
      "Messages sent to backends.",
      SERIES_LABELS,
      perSeries((s) => s.messagesIn),
    );
    counter(
      "response_messages_total",
      "Messages passed on to browsers.",
      SERIES_LABELS,
      perSeries((s) => s.messagesOut),
    );
    counter(
      "request_bytes_total",
      "gRPC-framed bytes sent to backends.",
      SERIES_LABELS,
      perSeries((s) => s.bytesIn),
    );
    counter(
      "response_bytes_total",
      "gRPC-framed bytes passed on to browsers.",
      SERIES_LABELS,
      perSeries((s) => s.bytesOut),
    );
    counter(
      "rejected_requests_total",
      "Requests the proxy answered itself instead of calling a backend, by reason.",
      ["reason"],
      () => Array.from(this.#rejected, ([reason, count]): Sample => [{ reason }, count]),
    );
    counter(
      "limits_reached_total",
      "Calls a limit of the proxy's refused or ended, by `limit`, forwarded or not.",
      ["limit"],
      () => Array.from(this.#limits, ([limit, count]): Sample => [{ limit }, count]),
    );
    counter(
      "config_reloads_total",
      "Configuration reloads (SIGHUP or a changed file), by result: failed ones left the old configuration serving.",
      ["result"],
      () => Array.from(this.#reloads, ([result, count]): Sample => [{ result }, count]),
    );
    new Gauge({
      name: `${PREFIX}active_calls`,
      help: "Calls in flight.",
      registers,
      collect() {
        this.set(sources.activeCalls());
      },
    });
    new Gauge({
      name: `${PREFIX}buffered_request_bytes`,
      help: "Request body bytes the calls in flight hold (or have declared and will), against maxBufferedRequestBytes.",
      registers,
      collect() {
        this.set(sources.bufferedRequestBytes());
      },
    });
    new Gauge({
      name: `${PREFIX}upstream_streams`,
      help: "HTTP/2 streams open to each backend.",
      labelNames: ["upstream"],
      registers,
      collect() {
        this.reset();
        for (const upstream of sources.upstreams()) {
          this.set({ upstream: upstream.name }, upstream.activeStreams);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}upstream_sessions`,
      help: "HTTP/2 sessions to each backend, by state.",
      labelNames: ["upstream", "state"],
      registers,
      collect() {
        this.reset();
        for (const upstream of sources.upstreams()) {
          for (const [state, count] of Object.entries(upstream.sessionStates)) {
            this.set({ upstream: upstream.name, state }, count);
          }
        }
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The series a call ends in. Only a method its backend answered (with any status but UNIMPLEMENTED)
   * gets a series of its own, so browsers cannot make series up: calls the proxy answered itself share
   * one, and calls to methods without a series (unanswered, unknown, past the caps) share another.
   */
  seriesOf(path: string, form: CallForm, outcome: CallOutcome): CallSeries {
    let series: MethodSeries;
    if (!outcome.forwarded) {
      this.#notForwarded ??= this.#method(NOT_FORWARDED, NOT_FORWARDED);
      series = this.#notForwarded;
    } else series = this.#series.get(path) ?? (answeredMethod(outcome) ? this.#add(path) : this.#shared());
    return series[form];
  }

  rejected(reason: RejectReason): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
  }

  limitReached(limit: LimitName): void {
    this.#limits.set(limit, (this.#limits.get(limit) ?? 0) + 1);
  }

  reloaded(result: ReloadResult): void {
    this.#reloads.set(result, (this.#reloads.get(result) ?? 0) + 1);
  }

  #add(path: string): MethodSeries {
    const slash = path.indexOf("/", 1);
    const service = path.slice(1, slash);
    const method = path.slice(slash + 1);
    if (
      this.#series.size >= MAX_METHOD_SERIES ||
      service.length > MAX_LABEL_CHARS ||
      method.length > MAX_LABEL_CHARS
    )
      return this.#shared();
    const series = this.#method(service, method);
    this.#series.set(path, series);
    return series;
  }

  #shared(): MethodSeries {
    this.#other ??= this.#method(OTHER, OTHER);
    return this.#other;
  }

  #method(service: string, method: string): MethodSeries {
    const of = (form: CallForm) =>
      new CallSeries({ service, method, ...FORMS[form] }, this.#duration, this.#firstByte);
    return { binary: of("binary"), text: of("text"), websocket: of("websocket") };
  }

  /** Series that have seen a call: a form never used adds nothing to a scrape. */
  *#used(): Iterable<CallSeries> {
    const shared = [this.#other, this.#notForwarded].filter((series) => series !== undefined);
    for (const method of [...this.#series.values(), ...shared])
      for (const series of Object.values(method)) if (series.ended > 0) yield series;
  }
}

/** The backend answered the call and knows its method. */
function answeredMethod({ cause, code }: CallOutcome): boolean {
  return cause.kind === "backend" && code !== Code.UNIMPLEMENTED;
}

function* finishedByCode(series: CallSeries): Iterable<Sample> {
  for (const [code, count] of series.finished.entries()) {
    if (count > 0) yield [{ ...series.labels, code: codeName(code) }, count];
  }
}

function* mapSeries(
  all: Iterable<CallSeries>,
  samples: (s: CallSeries) => Iterable<Sample>,
): Iterable<Sample> {
  for (const series of all) yield* samples(series);
}
