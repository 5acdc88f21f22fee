const msPerUnit = { n: 1e-6, u: 1e-3, m: 1, S: 1_000, M: 60_000, H: 3_600_000 } as const;
type Unit = keyof typeof msPerUnit;

// grpc-timeout is at most 8 digits plus a unit (PROTOCOL-HTTP2 "Timeout"): milliseconds up to 27 hours,
// then seconds, which reach past any deadline a timer can wait (see maxTimerMs). Rounding up never
// makes the server's deadline earlier than the client's.
const maxDigits = 99_999_999;

/** Encodes a duration as a grpc-timeout value, in ms while they fit in 8 digits, else in seconds. */
export function encodeGrpcTimeout(timeoutMs: number): string {
  const ms = Math.max(1, Math.ceil(timeoutMs));
  return ms <= maxDigits ? `${ms}m` : `${Math.min(Math.ceil(ms / 1000), maxDigits)}S`;
}

/** The duration of a grpc-timeout value in ms, or undefined when it is absent or malformed. */
export function parseGrpcTimeout(value: string | null): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value ?? "");
  if (!match) return undefined;
  return Number(match[1]) * msPerUnit[match[2] as Unit];
}

// setTimeout fires at once for delays above 2^31-1 ms, which would turn a long deadline into an
// immediate DEADLINE_EXCEEDED; a deadline beyond 24.8 days is treated as none.
const maxTimerMs = 2_147_483_647;

/**
 * The deadline of one call in ms, or undefined for none: the call's own wins over the transport's
 * default. As in connect, zero or less means none (it disables the default); so do Infinity and NaN.
 */
export function resolveTimeoutMs(
  callMs: number | undefined,
  defaultMs: number | undefined,
): number | undefined {
  const ms = callMs ?? defaultMs;
  return ms !== undefined && ms > 0 && ms <= maxTimerMs ? ms : undefined;
}
