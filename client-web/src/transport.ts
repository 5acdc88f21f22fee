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
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { type CallSignal, createCallSignal } from "./call-signal.js";
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
}

type Method = DescMethodUnary | DescMethodStreaming;
type Input = MessageInitShape<DescMessage> | AsyncIterable<MessageInitShape<DescMessage>>;

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
    fetchCall(options.fetch),
  );

  async function call(
    method: Method,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: Input,
    contextValues: ContextValues | undefined,
  ): Promise<UnaryResponse | StreamResponse> {
    const deadline = resolveTimeoutMs(timeoutMs, options.defaultTimeoutMs);
    const running = createCallSignal(signal, deadline);
    // Protocol headers last, so that metadata cannot replace them.
    const headers = new Headers(header);
    headers.set(headerContentType, contentTypeProto);
    headers.set(headerXGrpcWeb, "1");
    if (deadline !== undefined) headers.set(headerTimeout, encodeGrpcTimeout(deadline));
    const common = {
      service: method.parent,
      requestMethod: "POST",
      url: `${options.baseUrl.replace(/\/*$/, "")}/${method.parent.typeName}/${method.name}`,
      signal: running.signal,
      header: headers,
      contextValues: contextValues ?? createContextValues(),
    };
    try {
      if (method.methodKind === "unary") {
        const req = {
          ...common,
          stream: false,
          method,
          message: create(method.input, input as MessageInitShape<DescMessage>),
        };
        const response = await next(req as UnaryRequest);
        running.end();
        return response;
      }
      const messages = (async function* () {
        for await (const init of input as AsyncIterable<MessageInitShape<DescMessage>>)
          yield create(method.input, init);
      })();
      const response = (await next({
        ...common,
        stream: true,
        method,
        message: messages,
      } as StreamRequest)) as StreamResponse;
      return { ...response, message: untilEnd(response.message, running) };
    } catch (reason) {
      throw running.fail(reason);
    }
  }

  return { unary: call, stream: call } as Transport;
}

/**
 * The replies, ending the call with the stream: its error reported as the call's (the deadline's or
 * the caller's abort, say), and a reader that stops early (`break`) cancelling it.
 */
async function* untilEnd<T>(replies: AsyncIterable<T>, running: CallSignal): AsyncGenerator<T> {
  try {
    yield* replies;
  } catch (reason) {
    throw running.fail(reason);
  } finally {
    running.end(new ConnectError("the reader stopped before the end of the stream", Code.Canceled));
  }
}
