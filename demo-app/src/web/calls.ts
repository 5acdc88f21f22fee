import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@grpc-web-bridge/client-web";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";
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

export function greeterCalls(baseUrl: string): { sayHello: GreeterCall; streamGreetings: GreeterCall } {
  const client = createClient(Greeter, createGrpcWebTransport({ baseUrl }));
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
  };
}
