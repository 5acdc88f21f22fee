import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import {
  createAsyncIterable,
  createMethodUrl,
  runStreamingCall,
  runUnaryCall,
} from "@connectrpc/connect/protocol";
import { requestHeader } from "@connectrpc/connect/protocol-grpc-web";
import { type CallSignal, createCallSignal } from "./call-signal.js";
import { type ResponseMetadata, toGrpcWebError } from "./error.js";
import { type Fetch, fetchServerStream, fetchUnary } from "./fetch-call.js";
import { type Metadata, setMetadata } from "./metadata.js";
import { encodeGrpcTimeout, resolveTimeoutMs } from "./timeout.js";

export interface ClientOptions {
  /** The gRPC-Web proxy; calls POST to `${baseUrl}/${package.Service}/${Method}`. */
  baseUrl: string;
  /** Default deadline of every call in ms; none when unset. */
  timeoutMs?: number;
  /** Metadata sent with every call. */
  metadata?: Metadata;
  /** connect interceptors, outermost first. They see connect's ConnectError; callers get GrpcWebError. */
  interceptors?: Interceptor[];
  /** The fetch to use instead of the global one (e.g. to set `credentials`). */
  fetch?: Fetch;
}

export interface CallOptions {
  /** Aborting it ends the call with CANCELLED. */
  signal?: AbortSignal;
  /** This call's deadline in ms, instead of the client's; Infinity for none. */
  timeoutMs?: number;
  /** Metadata for this call, on top of the client's (same keys: this call wins). */
  metadata?: Metadata;
  /** Called with the response headers of a successful call. */
  onHeaders?(headers: Headers): void;
  /** Called with the response trailers of a successful call. */
  onTrailers?(trailers: Headers): void;
}

type UnaryMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => Promise<MessageShape<O>>;

type ServerStreamingMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<O>>;

/**
 * A typed client: unary methods return a promise of the reply, server-streaming methods an async
 * iterable of replies. Client- and bidi-streaming methods are left out: fetch cannot stream a request.
 */
export type WebClient<S extends DescService> = {
  [K in keyof S["method"] as S["method"][K] extends DescMethodUnary | DescMethodServerStreaming
    ? K
    : never]: S["method"][K] extends DescMethodUnary<infer I, infer O>
    ? UnaryMethod<I, O>
    : S["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? ServerStreamingMethod<I, O>
      : never;
};

/** A client for any generated service. */
export function createWebClient<S extends DescService>(service: S, options: ClientOptions): WebClient<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    // DescMethod does not narrow on methodKind, hence the casts.
    if (method.methodKind === "unary") {
      client[method.localName] = (request: MessageInitShape<DescMessage>, callOptions?: CallOptions) =>
        callUnary(options, method as DescMethodUnary, request, callOptions);
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: MessageInitShape<DescMessage>, callOptions?: CallOptions) =>
        callServerStream(options, method as DescMethodServerStreaming, request, callOptions);
    }
  }
  return client as WebClient<S>;
}

async function callUnary<I extends DescMessage, O extends DescMessage>(
  options: ClientOptions,
  method: DescMethodUnary<I, O>,
  request: MessageInitShape<I>,
  callOptions: CallOptions = {},
): Promise<MessageShape<O>> {
  const seen: ResponseMetadata = {};
  const timeoutMs = resolveTimeoutMs(callOptions.timeoutMs, options.timeoutMs);
  const call = createCallSignal(callOptions.signal, timeoutMs);
  try {
    const response = await runUnaryCall({
      interceptors: options.interceptors,
      signal: call.signal,
      req: { ...requestHead(options, method, callOptions, timeoutMs), stream: false, message: request },
      next: fetchUnary(options.fetch, seen),
    });
    callOptions.onHeaders?.(response.header);
    callOptions.onTrailers?.(response.trailer);
    return response.message;
  } catch (reason) {
    throw toGrpcWebError(reason, seen);
  } finally {
    call.release();
  }
}

function callServerStream<I extends DescMessage, O extends DescMessage>(
  options: ClientOptions,
  method: DescMethodServerStreaming<I, O>,
  request: MessageInitShape<I>,
  callOptions: CallOptions = {},
): AsyncIterable<MessageShape<O>> {
  const seen: ResponseMetadata = {};
  const timeoutMs = resolveTimeoutMs(callOptions.timeoutMs, options.timeoutMs);
  const call = createCallSignal(callOptions.signal, timeoutMs);
  // Started at once, like a unary call; an async function turns a bad request into a rejection.
  const started = (async () =>
    runStreamingCall({
      interceptors: options.interceptors,
      signal: call.signal,
      req: {
        ...requestHead(options, method, callOptions, timeoutMs),
        stream: true,
        message: createAsyncIterable([request]),
      },
      next: fetchServerStream(options.fetch, seen),
    }))();
  // The iterator reports a failure; this only keeps a stream nobody reads from being an unhandled rejection.
  started.catch(() => {});
  return replies(started, call, callOptions, seen);
}

async function* replies<I extends DescMessage, O extends DescMessage>(
  started: Promise<StreamResponse<I, O>>,
  call: CallSignal,
  callOptions: CallOptions,
  seen: ResponseMetadata,
): AsyncGenerator<MessageShape<O>> {
  try {
    const response = await started;
    callOptions.onHeaders?.(response.header);
    yield* response.message;
    callOptions.onTrailers?.(response.trailer);
  } catch (reason) {
    throw toGrpcWebError(reason, seen);
  } finally {
    // A caller that stops early (break, return) cancels the call, so the proxy and the backend stop too;
    // after the end of the stream this aborts nothing.
    call.cancel(new ConnectError("the caller stopped reading the stream", Code.Canceled));
    call.release();
  }
}

function requestHead<M extends DescMethodUnary | DescMethodServerStreaming>(
  options: ClientOptions,
  method: M,
  callOptions: CallOptions,
  timeoutMs: number | undefined,
) {
  const metadata = setMetadata(setMetadata(new Headers(), options.metadata), callOptions.metadata);
  // Protocol headers last, so that metadata cannot replace them.
  const header = requestHeader(true, undefined, metadata, false);
  if (timeoutMs !== undefined) header.set("grpc-timeout", encodeGrpcTimeout(timeoutMs));
  return {
    service: method.parent,
    method,
    requestMethod: "POST",
    url: createMethodUrl(options.baseUrl, method),
    header,
    contextValues: createContextValues(),
  };
}
