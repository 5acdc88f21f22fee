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

export function streamReply(replyBytes: number): string {
  return "x".repeat(replyBytes);
}

export const paths = {
  unary: "/helloworld.Greeter/SayHello",
  serverStream: "/helloworld.Greeter/SayHelloStreamReply",
  bidiStream: "/helloworld.Greeter/SayHelloBidiStream",
} as const;
