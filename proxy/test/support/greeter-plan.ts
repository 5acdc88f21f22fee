// What the test greeter does for one call, read from the call's request metadata.
// greeter_server.py follows the same rules for the grpcio backend: keep the two in step.
import { percentDecode } from "./percent-decode.js";
import type { RequestMetadata } from "./request-metadata.js";

export type MetadataEntries = ReadonlyArray<readonly [key: string, value: string | Buffer]>;

export interface GreeterPlan {
  /** Every `x-echo-*` request key, sent back as a response header unchanged. */
  readonly headers: MetadataEntries;
  /** The same values as trailers, `x-echo-<rest>` renamed `x-trailer-<rest>`. */
  readonly trailers: MetadataEntries;
  readonly sleepMs: number;
  readonly streamCount: number;
  readonly intervalMs: number;
  /** When set, every reply is this many 'x' instead of the greeting. */
  readonly replyBytes: number | undefined;
  /** An empty reply message (unary), no messages at all (stream). */
  readonly empty: boolean;
  readonly failure:
    | { readonly code: number; readonly message: string; readonly afterMessages: number }
    | undefined;
}

const ECHO_PREFIX = "x-echo-";

export function planGreeting(metadata: RequestMetadata): GreeterPlan {
  const text = (key: string) => {
    const value = metadata[key];
    return typeof value === "string" ? value : undefined;
  };
  const count = (key: string, fallback: number) => {
    const value = Number(text(key) ?? fallback);
    return Number.isSafeInteger(value) && value >= 0 ? value : fallback;
  };
  const echoed = Object.entries(metadata).filter(([key]) => key.startsWith(ECHO_PREFIX));
  const failCode = text("x-fail-code");
  return {
    headers: echoed,
    trailers: echoed.map(([key, value]) => [`x-trailer-${key.slice(ECHO_PREFIX.length)}`, value] as const),
    sleepMs: count("x-sleep-ms", 0),
    streamCount: count("x-stream-count", 3),
    intervalMs: count("x-stream-interval-ms", 0),
    replyBytes: text("x-reply-bytes") === undefined ? undefined : count("x-reply-bytes", 0),
    empty: text("x-empty") === "1",
    failure:
      failCode === undefined
        ? undefined
        : {
            code: Number(failCode),
            message: percentDecode(text("x-fail-message") ?? ""),
            afterMessages: count("x-fail-after", 0),
          },
  };
}
