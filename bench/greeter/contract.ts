// What the bench's Greeter backend answers, so load generators know the exact reply to expect.
// The workload rides in the request's `name`, keeping the backend stateless.

/** A server stream that sends one reply, then stays open until the caller cancels it. */
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
