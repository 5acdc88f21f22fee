import { Code, ConnectError } from "@connectrpc/connect";

/** How SayHelloStreamReply paces its replies; callers tune it with request metadata. */
export interface StreamOptions {
  count: number;
  delayMs: number;
}

export const replyCountHeader = "x-reply-count";
export const replyDelayHeader = "x-reply-delay-ms";

const countLimits = { min: 1, max: 20, fallback: 5 };
const delayLimits = { min: 0, max: 10_000, fallback: 500 };

/** Reads the stream pacing from request metadata; a bad value is an INVALID_ARGUMENT that says what fits. */
export function streamOptions(requestHeader: Headers): StreamOptions {
  return {
    count: wholeNumber(requestHeader, replyCountHeader, countLimits),
    delayMs: wholeNumber(requestHeader, replyDelayHeader, delayLimits),
  };
}

function wholeNumber(
  headers: Headers,
  key: string,
  limits: { min: number; max: number; fallback: number },
): number {
  const raw = headers.get(key);
  if (raw === null) return limits.fallback;
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || value < limits.min || value > limits.max) {
    throw new ConnectError(
      `metadata ${key} must be a whole number from ${limits.min} to ${limits.max}, got "${raw}"`,
      Code.InvalidArgument,
    );
  }
  return value;
}
