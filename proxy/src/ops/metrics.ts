import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { codeName } from "../protocol/status.js";
import type { Upstream } from "../upstream/upstream.js";
import { CallSeries } from "./call-series.js";

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
  upstreams(): Iterable<Upstream>;
}

const PREFIX = "grpc_web_bridge_";
const SERIES_LABELS = ["service", "method", "mode"];
/** A browser may name any method; past this many, new ones share one series so memory stays bounded. */
const MAX_METHOD_SERIES = 500;
const OTHER = "_other";
const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
const FIRST_BYTE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

type SeriesPair = readonly [binary: CallSeries, text: CallSeries];
type Sample = readonly [labels: Readonly<Record<string, string>>, value: number];

/** The proxy's Prometheus metrics, in a registry of its own, plus the process metrics when asked for. */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #series = new Map<string, SeriesPair>();
  /** The series shared by the methods beyond MAX_METHOD_SERIES. */
  #other: SeriesPair | undefined;
  readonly #rejected = new Map<RejectReason, number>(REJECT_REASONS.map((reason) => [reason, 0]));
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
      "Calls sent on to a backend.",
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

  /** The series of `path` (`/package.Service/Method`, already validated) in one mode. */
  series(path: string, text: boolean): CallSeries {
    const pair = this.#series.get(path) ?? this.#add(path);
    return pair[text ? 1 : 0];
  }

  rejected(reason: RejectReason): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
  }

  reloaded(result: ReloadResult): void {
    this.#reloads.set(result, (this.#reloads.get(result) ?? 0) + 1);
  }

  #add(path: string): SeriesPair {
    if (this.#series.size >= MAX_METHOD_SERIES) {
      this.#other ??= this.#pair(OTHER, OTHER);
      return this.#other;
    }
    const slash = path.indexOf("/", 1);
    const pair = this.#pair(path.slice(1, slash), path.slice(slash + 1));
    this.#series.set(path, pair);
    return pair;
  }

  #pair(service: string, method: string): SeriesPair {
    return [
      new CallSeries({ service, method, mode: "binary" }, this.#duration, this.#firstByte),
      new CallSeries({ service, method, mode: "text" }, this.#duration, this.#firstByte),
    ];
  }

  /** Series that have seen a call: a mode never used adds nothing to a scrape. */
  *#used(): Iterable<CallSeries> {
    const pairs = this.#other ? [...this.#series.values(), this.#other] : this.#series.values();
    for (const pair of pairs) for (const series of pair) if (series.started > 0) yield series;
  }
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
