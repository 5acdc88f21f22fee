import type { Interceptor, UnaryRequest } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeGrpcTimeout, parseGrpcTimeout } from "./timeout.js";

export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** Upper bound of the first backoff in ms. Default 100. */
  initialBackoffMs?: number;
  /** Upper bound of any backoff in ms. Default 2000. */
  maxBackoffMs?: number;
  /** Codes worth another attempt. Default: UNAVAILABLE, the code that says the server did not act. */
  retryableCodes?: readonly Code[];
}

/**
 * The pause before retry number `retry` (1 for the first): "full jitter" exponential backoff, a random
 * delay below initial × 2^(retry-1), capped, as gRPC's retry design (A6) draws it.
 */
export function backoffMs(
  retry: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
) {
  return random() * Math.min(maxMs, initialMs * 2 ** (retry - 1));
}

/**
 * Retries failed unary calls with backoff; streams pass through untouched, since their replies may
 * already have been consumed. A retry that could not finish its pause before the call's deadline
 * is not made: the last error is thrown instead.
 */
export function retryInterceptor(options: RetryOptions = {}): Interceptor {
  const { maxAttempts = 3, initialBackoffMs = 100, maxBackoffMs = 2000 } = options;
  const retryableCodes = options.retryableCodes ?? [Code.Unavailable];
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const timeoutMs = parseGrpcTimeout(req.header.get("grpc-timeout"));
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(attempt === 1 ? req : withRemainingTime(req, deadline));
      } catch (reason) {
        const pause = backoffMs(attempt, initialBackoffMs, maxBackoffMs);
        const retryable = retryableCodes.includes(ConnectError.from(reason).code);
        if (!retryable || attempt >= maxAttempts || Date.now() + pause >= deadline) throw reason;
        await sleep(pause, req.signal);
      }
    }
  };
}

/** The request again, its grpc-timeout telling the server how much of the deadline is left. */
function withRemainingTime(req: UnaryRequest, deadline: number): UnaryRequest {
  if (deadline === Number.POSITIVE_INFINITY) return req;
  const header = new Headers(req.header);
  header.set("grpc-timeout", encodeGrpcTimeout(Math.max(0, deadline - Date.now())));
  return { ...req, header };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
