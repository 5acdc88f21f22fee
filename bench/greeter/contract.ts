// What the bench's Greeter backend answers, so load generators know the exact reply to expect.
// The workload rides in the request's `name`, keeping the backend stateless.

/** A server stream, or a bidi call whose first request has this name: one reply, then open until the caller cancels it. */
export const IDLE_NAME = "idle";
export const IDLE_REPLY = "idle";

export interface StreamShape {
  replies: number;
  replyBytes: number;
}

export function streamName({ replies, replyBytes }: StreamShape): string {
  return `stream:${replies}:${replyBytes}`;
}

export function parseStreamName(name: string): StreamShape | undefined {
  const match = /^stream:(\d+):(\d+)$/.exec(name);
  if (!match) return undefined;
  return { replies: Number(match[1]), replyBytes: Number(match[2]) };
}

/**
 * A bidi request that is counted and not answered: a bidi call of them is a one-way client stream, which
 * the backend answers once, when the stream ends, with `countedReply`. Padded to `bytes` of name.
 */
export function countedName(bytes: number): string {
  return COUNTED_PREFIX + "x".repeat(Math.max(0, bytes - COUNTED_PREFIX.length));
}
const COUNTED_PREFIX = "count:";

export function countedReply(count: number): string {
  return `Counted ${count}`;
}

/** The replies of one bidi call (after an IDLE_NAME request, the backend's idle stream takes over). */
export class BidiReplies {
  #counted = 0;

  /** The reply to one request; undefined when it is counted instead. */
  to(name: string): string | undefined {
    if (!name.startsWith(COUNTED_PREFIX)) return unaryReply(name);
    this.#counted++;
    return undefined;
  }

  /** The reply once the requests have ended: their count, if any was counted. */
  atEnd(): string | undefined {
    return this.#counted > 0 ? countedReply(this.#counted) : undefined;
  }
}

export function unaryReply(name: string): string {
  return `Hello ${name}`;
}

/**
 * A stream reply of `replyBytes` characters of JSON-like records, made the same way every time: content that
 * compresses about as API responses do (bench/compression.ts measures HTTP compression with it), where one
 * repeated letter would compress a thousandfold.
 */
export function streamReply(replyBytes: number): string {
  return records(replyBytes);
}

/** `length` characters of JSON records with varying ids, names and numbers (a fixed pseudo-random sequence). */
export function records(length: number): string {
  let seed = 42;
  const next = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % below;
  };
  const names = ["ada", "grace", "alan", "edsger", "barbara", "donald", "ken", "dennis", "margaret", "linus"];
  let text = "";
  while (text.length < length) {
    const id = next(1_000_000);
    const name = names[next(names.length)];
    text += `{"id":${id},"user":"${name}${next(1000)}","email":"${name}.${id}@example.com","score":${next(10_000) / 100},"active":${next(2) === 1},"tags":["t${next(50)}","t${next(50)}"]},`;
  }
  return text.slice(0, length);
}

export const paths = {
  unary: "/helloworld.Greeter/SayHello",
  serverStream: "/helloworld.Greeter/SayHelloStreamReply",
  bidiStream: "/helloworld.Greeter/SayHelloBidiStream",
} as const;
