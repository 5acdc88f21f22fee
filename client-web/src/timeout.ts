const msPerUnit = { n: 1e-6, u: 1e-3, m: 1, S: 1_000, M: 60_000, H: 3_600_000 } as const;
type Unit = keyof typeof msPerUnit;

// grpc-timeout is at most 8 digits plus a unit (PROTOCOL-HTTP2 "Timeout"), so long deadlines need a
// coarser unit. Rounding up never makes the server's deadline earlier than the client's.
const encodingUnits: readonly Unit[] = ["m", "S", "M", "H"];
const maxDigits = 99_999_999;

/** Encodes a duration as a grpc-timeout value, in the finest unit that fits in 8 digits. */
export function encodeGrpcTimeout(timeoutMs: number): string {
  for (const unit of encodingUnits) {
    const value = Math.max(1, Math.ceil(timeoutMs / msPerUnit[unit]));
    if (value <= maxDigits) return `${value}${unit}`;
  }
  return `${maxDigits}H`;
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
 * The deadline of one call in ms, or undefined for none: the per-call value wins over the client
 * default, and Infinity means none. Zero expires at once, as in other gRPC clients.
 */
export function resolveTimeoutMs(
  callMs: number | undefined,
  clientMs: number | undefined,
): number | undefined {
  const ms = callMs ?? clientMs;
  // Written so that undefined and NaN also mean "no deadline".
  if (!(ms !== undefined && ms <= maxTimerMs)) return undefined;
  return Math.max(ms, 0);
}
