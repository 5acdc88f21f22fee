import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { EnvelopedMessage } from "@connectrpc/connect/protocol";
import { compressedFlag, createEnvelopeReadableStream, encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  headerGrpcStatus,
  trailerFlag,
  trailerParse,
  validateTrailer,
} from "@connectrpc/connect/protocol-grpc-web";
import type { ResponseMetadata } from "./error.js";
import { missingStatusError, responseHeadError } from "./response-checks.js";

// One HTTP exchange of a gRPC-Web call in the binary format, as the innermost step of connect's
// interceptor chain. connect-web's transport does the same but also links the JSON codecs, which
// binary gRPC-Web never uses; leaving them out is most of this package's size saving.

export type Fetch = typeof globalThis.fetch;

/** A unary call: one request message, exactly one reply. */
export function fetchUnary(fetch: Fetch | undefined, seen: ResponseMetadata) {
  return async <I extends DescMessage, O extends DescMessage>(
    req: UnaryRequest<I, O>,
  ): Promise<UnaryResponse<I, O>> => {
    const { response, trailer } = await post(fetch, req, toBinary(req.method.input, req.message), seen);
    let reply: MessageShape<O> | undefined;
    for await (const message of readMessages(response, req.method.output, trailer)) {
      if (reply !== undefined) throw protocolError("a unary response with more than one message");
      reply = message;
    }
    if (reply === undefined) throw protocolError("a unary response without a message");
    return {
      stream: false,
      service: req.service,
      method: req.method,
      header: response.headers,
      trailer,
      message: reply,
    };
  };
}

/** A server-streaming call: one request message, replies yielded as their frames arrive. */
export function fetchServerStream(fetch: Fetch | undefined, seen: ResponseMetadata) {
  return async <I extends DescMessage, O extends DescMessage>(
    req: StreamRequest<I, O>,
  ): Promise<StreamResponse<I, O>> => {
    // fetch cannot stream a request body, so the one request message is all there is.
    const first = await req.message[Symbol.asyncIterator]().next();
    if (first.done)
      throw new ConnectError("a server-streaming call needs a request message", Code.InvalidArgument);
    const { response, trailer } = await post(fetch, req, toBinary(req.method.input, first.value), seen);
    return {
      stream: true,
      service: req.service,
      method: req.method,
      header: response.headers,
      trailer,
      message: readMessages(response, req.method.output, trailer),
    };
  };
}

async function post(
  fetch: Fetch | undefined,
  req: UnaryRequest | StreamRequest,
  message: Uint8Array,
  seen: ResponseMetadata,
): Promise<{ response: Response; trailer: Headers }> {
  // Looked up per call, and called unbound: browsers reject fetch called as a method of another object.
  const fetchImpl = fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await fetchImpl(req.url, {
      method: "POST",
      headers: req.header,
      body: encodeEnvelope(0, message),
      signal: req.signal,
      redirect: "error",
    });
  } catch (cause) {
    // Aborted by the caller or the deadline: interceptors should see that, not a network failure.
    if (req.signal.aborted) throw ConnectError.from(req.signal.reason, Code.Canceled);
    throw new ConnectError(
      `the request failed before any response (network error, or a CORS preflight the proxy refused): ${cause}`,
      Code.Unavailable,
      undefined,
      undefined,
      cause,
    );
  }
  const trailer = new Headers();
  seen.headers = response.headers;
  seen.trailers = trailer;
  const headError = responseHeadError(response);
  if (headError) throw headError;
  return { response, trailer };
}

/**
 * Parses the response body into messages, copying the trailers into `trailer` and throwing the
 * status if it is not OK. A trailers-only response (status in the headers) must have an empty body.
 */
async function* readMessages<Desc extends DescMessage>(
  response: Response,
  schema: Desc,
  trailer: Headers,
): AsyncGenerator<MessageShape<Desc>> {
  const trailersOnly = response.headers.has(headerGrpcStatus);
  if (trailersOnly) copyInto(trailer, response.headers);
  let statusSeen = trailersOnly;
  let bodyWasEmpty = true;
  for await (const frame of readFrames(response.body)) {
    if (statusSeen) throw protocolError("data after the status");
    bodyWasEmpty = false;
    if ((frame.flags & compressedFlag) === compressedFlag) {
      throw protocolError("a compressed frame, though the request offered no grpc-accept-encoding");
    }
    if ((frame.flags & trailerFlag) === trailerFlag) {
      copyInto(trailer, trailerParse(frame.data));
      statusSeen = true;
    } else {
      yield fromBinary(schema, frame.data);
    }
  }
  if (!trailer.has(headerGrpcStatus)) throw missingStatusError(response, bodyWasEmpty);
  validateTrailer(trailer, trailersOnly ? new Headers() : response.headers);
}

async function* readFrames(body: ReadableStream<Uint8Array> | null): AsyncGenerator<EnvelopedMessage> {
  if (body === null) return;
  const reader = createEnvelopeReadableStream(body).getReader();
  for (;;) {
    let result: ReadableStreamReadResult<EnvelopedMessage>;
    try {
      result = await reader.read();
    } catch (cause) {
      // connect's own error here is for a body that ends inside a frame; anything else is the connection.
      if (cause instanceof ConnectError) throw protocolError("the response ended inside a frame");
      throw new ConnectError(
        `the connection broke mid-response: ${cause}`,
        Code.Unavailable,
        undefined,
        undefined,
        cause,
      );
    }
    if (result.done) return;
    yield result.value;
  }
}

function copyInto(target: Headers, source: Headers): void {
  for (const [key, value] of source) target.append(key, value);
}

function protocolError(what: string): ConnectError {
  return new ConnectError(`protocol error: ${what}`, Code.Internal);
}
