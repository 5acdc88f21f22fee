const msPerUnit = { n: 1e-6, u: 1e-3, m: 1, S: 1_000, M: 60_000, H: 3_600_000 } as const;
type Unit = keyof typeof msPerUnit;

// grpc-timeout is at most 8 digits plus a unit (PROTOCOL-HTTP2 "Timeout"). This client sends whole
// milliseconds, which reach 27 hours: a longer deadline is treated as none (a browser call that long
// has no deadline worth the name). Rounding up never makes the server's deadline earlier than the client's.
const maxTimeoutMs = 99_999_999;

/** Encodes a deadline of 0 to 99,999,999 ms as a grpc-timeout value in ms (at least 1). */
export function encodeGrpcTimeout(timeoutMs: number): string {
  return `${Math.ceil(timeoutMs) || 1}m`;
}

/** The duration of a grpc-timeout value in ms, or undefined when it is absent or malformed. */
export function parseGrpcTimeout(value: string | null): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value ?? "");
  if (!match) return undefined;
  return Number(match[1]) * msPerUnit[match[2] as Unit];
}

/**
 * The deadline of one call in ms, or undefined for none: the call's own wins over the transport's
 * default. As in connect, zero or less means none (it disables the default); so do Infinity, NaN and
 * anything beyond what grpc-timeout carries in ms.
 */
export function resolveTimeoutMs(
  callMs: number | undefined,
  defaultMs: number | undefined,
): number | undefined {
  const ms = callMs ?? defaultMs ?? 0;
  return ms > 0 && ms <= maxTimeoutMs ? ms : undefined;
}
