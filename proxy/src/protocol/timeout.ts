import { Code, GrpcError } from "./status.js";

// doc/PROTOCOL-HTTP2.md: Timeout → TimeoutValue TimeoutUnit; TimeoutValue → {positive integer as ASCII string of
// at most 8 digits}; units are case-sensitive ('m' is milliseconds, 'M' minutes).
const GRPC_TIMEOUT = /^\d{1,8}[HMSmun]$/;
const MAX_TIMEOUT_VALUE = 99_999_999;

const NS_PER_UNIT = { n: 1, u: 1e3, m: 1e6, S: 1e9, M: 6e10, H: 3.6e12 } as const;
type Unit = keyof typeof NS_PER_UNIT;
const FINEST_FIRST: readonly Unit[] = ["n", "u", "m", "S", "M", "H"];
const NS_PER_MS = 1e6;

/** The longest delay a Node timer can wait: a longer one fires after 1 ms instead (with only a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** grpc-timeout → milliseconds (fractional below 1 ms). 1–8 ASCII digits + unit H M S m u n (case-sensitive).
 *  undefined header → undefined (no deadline).
 *
 *  A malformed value is an error with code INTERNAL, not ignored and not INVALID_ARGUMENT: that is what most
 *  servers a gRPC client meets answer — grpc-go ("malformed time-out", so grpcwebproxy too) and grpc-js — while
 *  connect-go/vanguard say INVALID_ARGUMENT and Envoy and gRPC C++ drop the header. Ignoring it would silently run
 *  the call without the deadline its caller asked for. */
export function parseGrpcTimeout(value: string | undefined): number | undefined | GrpcError {
  if (value === undefined) return undefined;
  if (!GRPC_TIMEOUT.test(value))
    return new GrpcError(Code.INTERNAL, `malformed grpc-timeout ${JSON.stringify(value)}`);
  return (Number(value.slice(0, -1)) * NS_PER_UNIT[value.at(-1) as Unit]) / NS_PER_MS;
}

/** Remaining milliseconds → grpc-timeout, finest unit (n→u→m→S→M→H) whose value fits in 8 digits; rounds up so it
 *  is never 0 for >0. An expired deadline (≤ 0) gives "0n"; anything beyond 99999999 hours gives "99999999H". */
export function encodeGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return "0n";
  const ns = ms * NS_PER_MS;
  for (const unit of FINEST_FIRST) {
    // The small tolerance keeps float noise (0.123 ms = 123000.00000000001 ns) from rounding up a whole unit.
    const value = Math.max(1, Math.ceil(ns / NS_PER_UNIT[unit] - 1e-6));
    if (value <= MAX_TIMEOUT_VALUE) return `${value}${unit}`;
  }
  return `${MAX_TIMEOUT_VALUE}H`;
}

/** The deadline the proxy enforces: the client's, clamped to maxMs when given (maxMs undefined = no clamp).
 *  A call without a deadline gets maxMs, as in Envoy: a maximum that only bounded callers who set a deadline
 *  would not bound anything. The result never exceeds MAX_TIMER_MS, so it is always safe for setTimeout
 *  (grpc-go likewise clamps what its clock cannot hold). */
export function effectiveTimeout(
  requestedMs: number | undefined,
  maxMs: number | undefined,
): number | undefined {
  if (requestedMs === undefined && maxMs === undefined) return undefined;
  return Math.min(requestedMs ?? Number.POSITIVE_INFINITY, maxMs ?? Number.POSITIVE_INFINITY, MAX_TIMER_MS);
}
