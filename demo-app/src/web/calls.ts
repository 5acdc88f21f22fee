import { createClient } from "@connectrpc/connect";
import { errorDetails, explainErrors } from "@grpc-web-bridge/client-web";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";
import { createWebSocketTransport } from "@grpc-web-bridge/client-web/websocket";
import type { GreetRequest } from "./form-values.js";

/** What the page wants to hear about while a call runs. */
export interface CallListener {
  headers(headers: Headers): void;
  reply(message: string): void;
  trailers(trailers: Headers): void;
}

/** One call; it resolves when the call ends with OK and rejects with a ConnectError otherwise. */
export type GreeterCall = (
  request: GreetRequest,
  signal: AbortSignal,
  listener: CallListener,
) => Promise<void>;

/** An open bidi call: names go out one at a time; `done` settles as a GreeterCall's promise does. */
export interface BidiCall {
  send(name: string): void;
  finish(): void;
  readonly done: Promise<void>;
}

export type BidiGreetings = (signal: AbortSignal, listener: Omit<CallListener, "headers">) => BidiCall;

export function greeterCalls(baseUrl: string): {
  sayHello: GreeterCall;
  streamGreetings: GreeterCall;
  bidiGreetings: BidiGreetings;
} {
  // Unary and server-streaming calls go over fetch, the bidi call over a WebSocket. Errors say what
  // answered instead of the proxy, if anything did (explainErrors), and carry their details (errorDetails).
  const client = createClient(
    Greeter,
    createWebSocketTransport({ baseUrl, interceptors: [explainErrors, errorDetails] }),
  );
  const options = (request: GreetRequest, signal: AbortSignal, listener: CallListener) => ({
    signal,
    timeoutMs: request.timeoutMs,
    headers: request.metadata,
    onHeader: listener.headers,
    onTrailer: listener.trailers,
  });
  return {
    async sayHello(request, signal, listener) {
      const reply = await client.sayHello({ name: request.name }, options(request, signal, listener));
      listener.reply(reply.message);
    },
    async streamGreetings(request, signal, listener) {
      const replies = client.sayHelloStreamReply({ name: request.name }, options(request, signal, listener));
      for await (const reply of replies) listener.reply(reply.message);
    },
    bidiGreetings(signal, listener) {
      const names = nameQueue();
      const done = (async () => {
        const replies = client.sayHelloBidiStream(names.requests, { signal, onTrailer: listener.trailers });
        for await (const reply of replies) listener.reply(reply.message);
      })();
      return { send: names.send, finish: names.finish, done };
    },
  };
}

/** The requests of a bidi call, as the page's buttons produce them. */
function nameQueue() {
  const pending: string[] = [];
  let finished = false;
  let wake = () => {};
  async function* requests() {
    for (;;) {
      const name = pending.shift();
      if (name !== undefined) yield { name };
      else if (finished) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return {
    requests: requests(),
    send(name: string) {
      pending.push(name);
      wake();
    },
    finish() {
      finished = true;
      wake();
    },
  };
}
