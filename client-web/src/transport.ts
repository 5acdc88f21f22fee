import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type {
  ContextValues,
  Interceptor,
  StreamRequest,
  StreamResponse,
  Transport,
  UnaryRequest,
  UnaryResponse,
} from "@connectrpc/connect";
import { createContextValues } from "@connectrpc/connect";
import { callError, createCallSignal } from "./call-signal.js";
import type { Compression } from "./compression.js";
import { type Fetch, fetchCall } from "./fetch-call.js";
import { contentTypeProto, headerContentType, headerTimeout, headerXGrpcWeb } from "./protocol/headers.js";
import { encodeGrpcTimeout, resolveTimeoutMs } from "./timeout.js";

export interface GrpcWebTransportOptions {
  /** The gRPC-Web proxy; a call POSTs to `${baseUrl}/${package.Service}/${Method}`. */
  baseUrl: string;
  /** connect interceptors, outermost first. */
  interceptors?: Interceptor[];
  /** The deadline of calls that set no `timeoutMs`, in ms; none when unset. */
  defaultTimeoutMs?: number;
  /** The fetch to call instead of the global one (to set `credentials`, say). */
  fetch?: Fetch;
  /**
   * Message compression for every call (`gzip`). Per transport, as in connect: calls that should go uncompressed
   * (or in another encoding) take a second transport.
   */
  compression?: Compression;
}

type Init = MessageInitShape<DescMessage>;

/**
 * A connect `Transport` for binary gRPC-Web over fetch: give it to `createClient` from
 * `@connectrpc/connect` (or to connect-query). Every failure is a `ConnectError`; a status from the
 * server carries the response headers and trailers as its `metadata`. A deadline is sent as
 * grpc-timeout and also ends the call here. Client- and bidi-streaming calls send all their request
 * messages in one body, since fetch cannot stream a request.
 */
export function createGrpcWebTransport(options: GrpcWebTransportOptions): Transport {
  const next = (options.interceptors ?? []).reduceRight(
    (inner: ReturnType<Interceptor>, interceptor) => interceptor(inner),
    fetchCall(options),
  );

  // One function serves both kinds of call: what the request carries follows the method's kind.
  async function call(
    method: DescMethodUnary | DescMethodStreaming,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: Init | AsyncIterable<Init>,
    contextValues: ContextValues | undefined,
  ): Promise<UnaryResponse | StreamResponse> {
    const deadline = resolveTimeoutMs(timeoutMs, options.defaultTimeoutMs);
    const running = createCallSignal(signal, deadline);
    // Protocol headers last, so that metadata cannot replace them.
    const headers = new Headers(header);
    headers.set(headerContentType, contentTypeProto);
    headers.set(headerXGrpcWeb, "1");
    if (deadline) headers.set(headerTimeout, encodeGrpcTimeout(deadline));
    const stream = method.methodKind !== "unary";
    try {
      const response = await next({
        stream,
        service: method.parent,
        method,
        requestMethod: "POST",
        url: `${options.baseUrl.replace(/\/*$/, "")}/${method.parent.typeName}/${method.name}`,
        signal: running.signal,
        header: headers,
        contextValues: contextValues ?? createContextValues(),
        message: stream
          ? createEach(method.input, input as AsyncIterable<Init>)
          : create(method.input, input as Init),
      } as UnaryRequest | StreamRequest);
      if (response.stream) return { ...response, message: untilEnd(response.message, running) };
      running.abort();
      return response;
    } catch (reason) {
      throw callError(running, reason);
    }
  }

  return { unary: call, stream: call } as Transport;
}

async function* createEach(schema: DescMessage, inits: AsyncIterable<Init>) {
  for await (const init of inits) yield create(schema, init);
}

/**
 * The replies, ending the call when its reader leaves them: at their end, on their error (reported as
 * the call's: the deadline's or the caller's abort, say), or early (`break`), which cancels the call so
 * that the proxy and the backend stop. Only `createWebClient` can stop early: connect's `createClient`
 * hands out streams without `return`.
 */
async function* untilEnd<T>(replies: AsyncIterable<T>, running: AbortController): AsyncGenerator<T> {
  try {
    yield* replies;
  } catch (reason) {
    throw callError(running, reason);
  } finally {
    // No reason given: a reader that stopped early sees no error, and an interceptor watching the
    // signal sees an AbortError, as for any abort.
    running.abort();
  }
}
