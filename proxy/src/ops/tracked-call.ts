import type { FastifyRequest } from "fastify";
import type { BridgedCall, CallOutcome } from "../call/bridged-call.js";
import { Code, type GrpcError } from "../protocol/status.js";
import { type LoggedCall, logCall } from "./access-log.js";
import type { CallSeries } from "./call-series.js";
import type { InFlightCalls } from "./in-flight.js";
import type { ProxyMetrics, RejectReason } from "./metrics.js";

/** Where tracked calls are counted and kept while in flight. */
export interface CallTracking {
  readonly metrics: ProxyMetrics;
  readonly calls: InFlightCalls;
}

export interface CallInfo {
  readonly requestId: string;
  readonly path: string;
  readonly upstream: string;
  /** grpc-web-text rather than binary. */
  readonly text: boolean;
}

/** One bridged call as operators see it: in flight, counted, and logged once when it ends. */
export class TrackedCall implements LoggedCall {
  readonly requestId: string;
  readonly path: string;
  readonly upstream: string;
  readonly startedAt = performance.now();
  readonly #tracking: CallTracking;
  readonly #request: FastifyRequest;
  readonly #series: CallSeries;
  #call: BridgedCall | undefined;

  constructor(tracking: CallTracking, request: FastifyRequest, info: CallInfo) {
    this.requestId = info.requestId;
    this.path = info.path;
    this.upstream = info.upstream;
    this.#tracking = tracking;
    this.#request = request;
    this.#series = tracking.metrics.series(info.path, info.text);
  }

  /** Starts `call`, whose `onDone` must be this call's `done`. */
  run(call: BridgedCall): void {
    this.#call = call;
    this.#series.started++;
    this.#tracking.calls.add(this);
    call.start();
  }

  abort(error: GrpcError): void {
    this.#call?.abort(error);
  }

  readonly done = (outcome: CallOutcome): void => {
    this.#tracking.calls.delete(this);
    this.#series.finish(outcome, this.startedAt);
    const refused = refusalReason(outcome);
    if (refused) this.#tracking.metrics.rejected(refused);
    logCall(this.#request, this, outcome);
  };
}

/** A call the proxy ended before the backend saw it, because of what the browser sent. */
function refusalReason({ forwarded, clientGone, code }: CallOutcome): RejectReason | undefined {
  if (forwarded || clientGone) return undefined;
  if (code === Code.RESOURCE_EXHAUSTED) return "limit";
  if (code === Code.INTERNAL || code === Code.INVALID_ARGUMENT || code === Code.UNIMPLEMENTED)
    return "malformed";
  return undefined;
}
