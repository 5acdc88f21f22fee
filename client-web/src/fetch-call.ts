import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressedFlag, frameParts, protocolError, readFrames, trailerFlag } from "./protocol/envelope.js";
import { headerStatus } from "./protocol/headers.js";
import { missingStatusError, responseHeadError } from "./protocol/response-checks.js";
import { parseTrailer, statusError } from "./protocol/status.js";

export type Fetch = typeof globalThis.fetch;

/**
 * One HTTP exchange of a binary gRPC-Web call: the innermost step of the interceptor chain. A stream's
 * replies are yielded as their frames arrive; its `trailer` fills once the body has been read.
 */
export function fetchCall(fetch: Fetch | undefined) {
  return async (req: UnaryRequest | StreamRequest): Promise<UnaryResponse | StreamResponse> => {
    // fetch cannot stream a request body, so a stream's request messages go out together.
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for await (const message of req.stream ? req.message : [req.message]) {
      parts.push(...frameParts(toBinary(req.method.input, message) as Uint8Array<ArrayBuffer>));
    }
    let response: Response;
    try {
      // Looked up per call, and called unbound: browsers reject fetch called as a method of another object.
      response = await (fetch ?? globalThis.fetch)(req.url, {
        method: req.requestMethod,
        headers: req.header,
        body: new Blob(parts),
        signal: req.signal,
        redirect: "error",
      });
    } catch (cause) {
      // An abort is reported by the transport, as the abort's reason.
      if (req.signal.aborted) throw cause;
      throw new ConnectError(
        `no response: a network error, or a CORS refusal (does the proxy allow this origin?): ${cause}`,
        Code.Unavailable,
        undefined,
        undefined,
        cause,
      );
    }
    const headError = responseHeadError(response);
    if (headError) throw headError;
    const trailer = new Headers();
    const messages = readMessages(response, req.method.output, trailer);
    const head = { service: req.service, header: response.headers, trailer };
    if (req.stream) return { ...head, stream: true, method: req.method, message: messages };
    const replies = [];
    for await (const message of messages) replies.push(message);
    if (replies.length !== 1) throw protocolError(`${replies.length} messages for a unary call`);
    return { ...head, stream: false, method: req.method, message: replies[0] as MessageShape<DescMessage> };
  };
}

/**
 * Parses the response body into messages, copying the trailers into `trailer` and throwing the status
 * if it is not OK. A trailers-only response (status in the headers) must have an empty body. The
 * status error carries the headers and trailers as its metadata.
 */
async function* readMessages<Desc extends DescMessage>(
  response: Response,
  schema: Desc,
  trailer: Headers,
): AsyncGenerator<MessageShape<Desc>> {
  const metadata = new Headers(response.headers);
  let ended = response.headers.has(headerStatus);
  if (ended) copyInto(trailer, response.headers);
  let empty = true;
  for await (const frame of response.body ? readFrames(response.body) : []) {
    if (ended) throw protocolError("data after the status");
    if (frame.flags & compressedFlag) throw protocolError("a compressed frame, though none was offered");
    empty = false;
    if (frame.flags & trailerFlag) {
      const fields = parseTrailer(frame.data);
      copyInto(trailer, fields);
      copyInto(metadata, fields);
      ended = true;
    } else {
      yield fromBinary(schema, frame.data);
    }
  }
  if (!trailer.has(headerStatus)) throw missingStatusError(response, empty);
  const error = statusError(trailer, metadata);
  if (error) throw error;
}

function copyInto(target: Headers, source: Headers): void {
  for (const [key, value] of source) target.append(key, value);
}
