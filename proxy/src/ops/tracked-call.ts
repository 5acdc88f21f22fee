import type { BridgedCall, CallObserver } from "../call/bridged-call.js";
import type { CallOutcome } from "../call/outcome.js";
import type { GrpcError } from "../protocol/status.js";
import type { CallSpan, CallTracer, CallTransport } from "../tracing/tracer.js";
import { type LoggedCall, logCall } from "./access-log.js";
import type { InFlightCalls } from "./in-flight.js";
import type { CallForm, ProxyMetrics, RejectReason } from "./metrics.js";
import type { ServedRequest } from "./served-request.js";

/** Where tracked calls are counted and kept while in flight. */
export interface CallTracking {
  readonly metrics: ProxyMetrics;
  readonly calls: InFlightCalls;
  /** Undefined while traces are off. */
  readonly tracer: CallTracer | undefined;
}

export interface CallInfo {
  readonly requestId: string;
  readonly path: string;
  /** The name of the upstream the call goes to. */
  readonly upstream: string;
  /** grpc-web-text rather than binary. */
  readonly text: boolean;
  /** Default: HTTP/1.1 or HTTP/2, as the request came. */
  readonly transport?: CallTransport;
}

/** One bridged call as operators see it: in flight, counted, and logged once when it ends. */
export class TrackedCall implements LoggedCall, CallObserver {
  readonly requestId: string;
  readonly path: string;
  readonly upstream: string;
  readonly startedAt = performance.now();
  readonly transport: CallTransport;
  /** The call's trace span, for the call to carry; undefined while traces are off. */
  readonly span: CallSpan | undefined;
  readonly #tracking: CallTracking;
  readonly #request: ServedRequest;
  readonly #form: CallForm;
  #call: BridgedCall | undefined;

  constructor(tracking: CallTracking, request: ServedRequest, info: CallInfo) {
    this.requestId = info.requestId;
    this.path = info.path;
    this.upstream = info.upstream;
    this.#tracking = tracking;
    this.#request = request;
    this.transport = info.transport ?? transportOf(request);
    this.#form = info.transport === "websocket" ? "websocket" : info.text ? "text" : "binary";
    this.span = tracking.tracer?.startCall({
      path: info.path,
      headers: request.headers,
      transport: this.transport,
      upstream: info.upstream,
    });
  }

  /** Starts `call`, whose observer must be this. */
  run(call: BridgedCall): void {
    this.#call = call;
    this.#tracking.calls.add(this);
    call.start();
  }

  abort(error: GrpcError): void {
    this.#call?.abort(error);
  }

  callEnded(outcome: CallOutcome): void {
    this.#tracking.calls.delete(this);
    this.#tracking.metrics.seriesOf(this.path, this.#form, outcome).finish(outcome, this.startedAt);
    record(this.#tracking.metrics, this.#request, this, outcome);
  }
}

/** How a request over HTTP reached the proxy. */
export function transportOf(request: ServedRequest): CallTransport {
  return request.raw.httpVersionMajor === 2 ? "h2" : "http/1.1";
}

/** Counts a call the proxy answered itself, and logs every call: the one place an outcome is recorded. */
export function record(
  metrics: ProxyMetrics,
  request: ServedRequest,
  call: LoggedCall,
  outcome: CallOutcome,
): void {
  const rejected = rejectReason(outcome);
  if (rejected) metrics.rejected(rejected);
  if (outcome.cause.kind === "limit") metrics.limitReached(outcome.cause.limit);
  logCall(request, call, outcome);
}

/** Why the proxy answered a call itself before the backend saw it, if it did; from the cause, never the code. */
export function rejectReason({ forwarded, cause }: CallOutcome): RejectReason | undefined {
  if (forwarded) return undefined;
  switch (cause.kind) {
    case "limit":
    case "malformed":
    case "interceptor":
    case "cors":
    case "route":
    case "draining":
      return cause.kind;
    default:
      return undefined;
  }
}
