import { Code } from "@connectrpc/connect";

const hints: Partial<Record<number, string>> = {
  [Code.DeadlineExceeded]:
    "The deadline passed before the call finished: raise the deadline, or lower x-reply-count / x-reply-delay-ms.",
  [Code.Unavailable]:
    "The proxy could not reach the greeter backend, or the proxy itself is down. Is it running?",
  [Code.Canceled]: "You cancelled the call; the backend stopped working on it.",
  [Code.InvalidArgument]: "The backend rejected the request: fix the field the message names and try again.",
  [Code.Unknown]:
    "The call failed without a gRPC status: the message says what answered instead of the proxy.",
  [Code.Unimplemented]:
    "The proxy or backend does not know this method: are they the same version as the page?",
};

/** A sentence telling a person what a failed status means for them, or "" when the message says it all. */
export function hintFor(code: number): string {
  return code === 0 ? "" : (hints[code] ?? "");
}
