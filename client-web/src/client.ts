import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { CallOptions, StreamResponse, Transport } from "@connectrpc/connect";

/**
 * The unary and server-streaming methods of a service, called as with connect's `createClient`
 * (same `CallOptions`, same `ConnectError`). Client- and bidi-streaming methods are left out.
 */
export type WebClient<S extends DescService> = {
  [K in keyof S["method"] as S["method"][K] extends DescMethodUnary | DescMethodServerStreaming
    ? K
    : never]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageInitShape<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>
      : never;
};

/**
 * A smaller `createClient` for any connect `Transport`: unary and server-streaming methods only, about
 * 2 kB gzip less in a bundle. Unlike `createClient`'s, its streams cancel the call when the reader stops
 * early (`break`), so the proxy and the backend stop too.
 */
export function createWebClient<S extends DescService>(service: S, transport: Transport): WebClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    // DescMethod does not narrow on methodKind, hence the casts.
    if (method.methodKind === "unary") {
      client[method.localName] = async (
        request: MessageInitShape<DescMessage>,
        options: CallOptions = {},
      ) => {
        const response = await transport.unary(
          method as DescMethodUnary,
          options.signal,
          options.timeoutMs,
          options.headers,
          request,
          options.contextValues,
        );
        options.onHeader?.(response.header);
        options.onTrailer?.(response.trailer);
        return response.message;
      };
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: MessageInitShape<DescMessage>, options: CallOptions = {}) => {
        // Started at once, like a unary call.
        const started = transport.stream(
          method as DescMethodServerStreaming,
          options.signal,
          options.timeoutMs,
          options.headers,
          (async function* () {
            yield request;
          })(),
          options.contextValues,
        );
        // The iterator reports a failure; this only keeps a stream nobody reads from being an unhandled rejection.
        started.catch(() => {});
        return replies(started, options);
      };
    }
  }
  return client as WebClient<S>;
}

async function* replies(started: Promise<StreamResponse>, options: CallOptions) {
  const response = await started;
  options.onHeader?.(response.header);
  yield* response.message;
  options.onTrailer?.(response.trailer);
}
