// A minimal connect-node Greeter for this package's tests until the shared backends land in
// proxy/test/support/backends.ts. Behaviour is driven by request metadata, like those will be:
// x-sleep-ms, x-stream-count, x-stream-interval-ms, x-fail-code/x-fail-message (with one
// HelloReply as error detail), and x-echo-* echoed as a header and as trailer x-trailer-*.
import { once } from "node:events";
import { createServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { type Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Greeter, type HelloReply, HelloReplySchema } from "../../src/index.js";

export interface Backend {
  /** The h2c address the proxy forwards to. */
  readonly url: string;
  readonly port: number;
  /** How each call ended, in order: "ok", "failed" or "cancelled" (the client went away). */
  readonly observations: string[];
  close(): Promise<void>;
}

/** `port` 0 picks a free one; pass a used one to bring a backend back where the proxy expects it. */
export async function startBackend(port = 0): Promise<Backend> {
  const observations: string[] = [];
  const ended = (context: HandlerContext, succeeded: boolean) =>
    observations.push(context.signal.aborted ? "cancelled" : succeeded ? "ok" : "failed");
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(Greeter, {
        async sayHello(request, context) {
          let succeeded = false;
          try {
            await behave(context);
            succeeded = true;
            return reply(`Hello, ${request.name}!`);
          } finally {
            ended(context, succeeded);
          }
        },
        async *sayHelloStreamReply(request, context) {
          let succeeded = false;
          try {
            await behave(context);
            const count = Number(context.requestHeader.get("x-stream-count") ?? 3);
            const intervalMs = Number(context.requestHeader.get("x-stream-interval-ms") ?? 0);
            for (let i = 1; i <= count; i++) {
              if (i > 1) await sleep(intervalMs, undefined, { signal: context.signal });
              yield reply(`Hello, ${request.name}! (${i} of ${count})`);
            }
            succeeded = true;
          } finally {
            ended(context, succeeded);
          }
        },
      }),
  });
  const server = createServer(handler);
  const sessions = new Set<Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    observations,
    async close() {
      const closed = once(server, "close");
      server.close();
      // Sessions the proxy keeps open would hold close() back; end them like a crash would.
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}

async function behave(context: HandlerContext): Promise<void> {
  for (const [key, value] of context.requestHeader) {
    if (!key.startsWith("x-echo-")) continue;
    context.responseHeader.set(key, value);
    context.responseTrailer.set(key.replace("x-echo-", "x-trailer-"), value);
  }
  const sleepMs = Number(context.requestHeader.get("x-sleep-ms") ?? 0);
  if (sleepMs > 0) await sleep(sleepMs, undefined, { signal: context.signal });
  const failCode = context.requestHeader.get("x-fail-code");
  if (failCode !== null) {
    const message = context.requestHeader.get("x-fail-message") ?? "failed on request";
    throw new ConnectError(message, Number(failCode) as Code, undefined, [
      { desc: HelloReplySchema, value: { message: "a detail" } },
    ]);
  }
}

function reply(message: string): HelloReply {
  return create(HelloReplySchema, { message });
}
