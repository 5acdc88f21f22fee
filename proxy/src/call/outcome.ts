import type { GrpcError } from "../protocol/status.js";

/** A limit of the proxy's that ended or refused a call. */
export type LimitName =
  | "request_message"
  /** The budget for request bodies held by all calls at once (maxBufferedRequestBytes). */
  | "request_body_budget"
  | "response_message"
  | "concurrent_calls"
  | "calls_per_connection"
  | "header_bytes"
  | "stream_idle";

/**
 * Why a call ended as it did, decided where it ended: logs and metrics read it
 * rather than guess it from the gRPC code (an interceptor may answer
 * RESOURCE_EXHAUSTED without any limit of the proxy's being reached).
 */
export type CallCause =
  /** The backend's own status, OK or not. */
  | { readonly kind: "backend" }
  /** The browser went away first. */
  | { readonly kind: "client_gone" }
  /** The call's deadline passed at the proxy. */
  | { readonly kind: "deadline" }
  | { readonly kind: "limit"; readonly limit: LimitName }
  /**
   * A call interceptor refused it: `interceptor` is its position from 1, and its function's name if it has one;
   * `error`, when it threw instead of answering, what it threw (its message and its causes').
   */
  | { readonly kind: "interceptor"; readonly interceptor: string; readonly error?: string }
  /** The browser's request could not be read as gRPC-Web (bad frame, bad base64, bad grpc-timeout). */
  | { readonly kind: "malformed" }
  /** The backend failed it: reset, connection lost, no address, a non-gRPC or malformed reply. */
  | { readonly kind: "upstream_failure" }
  /** Refused before it began: an origin CORS does not allow, a path no route serves, or a draining proxy. */
  | { readonly kind: "cors" }
  | { readonly kind: "route" }
  | { readonly kind: "draining" }
  /** The proxy ended it while shutting down. */
  | { readonly kind: "shutdown" };

/** A status the proxy answers a call with itself, and why. */
export interface Refusal {
  readonly error: GrpcError;
  readonly cause: CallCause;
}

/** What a finished call reports, once, for logs and metrics. */
export interface CallOutcome {
  readonly code: number;
  readonly cause: CallCause;
  /** True when the request reached the backend; false when the proxy answered first. */
  readonly forwarded: boolean;
  /** Request bytes sent to the backend (gRPC frames, decoded in text mode). */
  readonly bytesIn: number;
  /** Response DATA bytes from the backend passed on to the browser (before base64 in text mode). */
  readonly bytesOut: number;
  /** Complete response messages passed on. */
  readonly messagesOut: number;
  /** `performance.now()` when the backend's response headers arrived, if they did. */
  readonly respondedAt: number | undefined;
}

export const BACKEND: CallCause = { kind: "backend" };
export const CLIENT_GONE: CallCause = { kind: "client_gone" };
export const DEADLINE: CallCause = { kind: "deadline" };
export const MALFORMED: CallCause = { kind: "malformed" };
export const UPSTREAM_FAILURE: CallCause = { kind: "upstream_failure" };
export const SHUTDOWN: CallCause = { kind: "shutdown" };

/** The cause of a limit reached: one shared value per limit. */
export function limitCause(limit: LimitName): CallCause {
  return LIMITS[limit];
}

const LIMITS: Record<LimitName, CallCause> = {
  request_message: { kind: "limit", limit: "request_message" },
  request_body_budget: { kind: "limit", limit: "request_body_budget" },
  response_message: { kind: "limit", limit: "response_message" },
  concurrent_calls: { kind: "limit", limit: "concurrent_calls" },
  calls_per_connection: { kind: "limit", limit: "calls_per_connection" },
  header_bytes: { kind: "limit", limit: "header_bytes" },
  stream_idle: { kind: "limit", limit: "stream_idle" },
};

/** The cause as one word for a log line: `limit:request_message`, `interceptor:2 (checkTenant)`. */
export function describeCause(cause: CallCause): string {
  if (cause.kind === "limit") return `limit:${cause.limit}`;
  if (cause.kind === "interceptor") return `interceptor:${cause.interceptor}`;
  return cause.kind;
}
