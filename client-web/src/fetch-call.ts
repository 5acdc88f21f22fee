import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import { type Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "./compression.js";
import { compressedFlag, frameParts, protocolError, readFrames, trailerFlag } from "./protocol/envelope.js";
import { headerStatus } from "./protocol/headers.js";
import { onlyMessage } from "./protocol/one-reply.js";
import { httpError, isGrpcWebHead } from "./protocol/response-checks.js";
import { checkStatus, parseTrailer } from "./protocol/status.js";

export type Fetch = typeof globalThis.fetch;

/**
 * One HTTP exchange of a binary gRPC-Web call: the innermost step of the interceptor chain. A stream's
 * replies are yielded as their frames arrive; its `trailer` fills once the body has been read. The
 * transport's compression, if any, frames the requests and decompresses the replies.
 */
export function fetchCall({ fetch, compression: codec }: { fetch?: Fetch; compression?: Compression }) {
  return async (req: UnaryRequest | StreamRequest): Promise<UnaryResponse | StreamResponse> => {
    // fetch cannot stream a request body, so a stream's request messages go out together.
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for await (const message of req.stream ? req.message : [req.message]) {
      const payload = toBinary(req.method.input, message) as Uint8Array<ArrayBuffer>;
      parts.push(...(codec ? await codec.frame(payload, req.header) : frameParts(payload)));
    }
    let response: Response;
    try {
      // Looked up per call, and called unbound: browsers reject fetch called as a method of another object.
      response = await (fetch ?? globalThis.fetch)(req.url, {
        method: req.requestMethod,
        headers: req.header,
        body: new Blob(parts),
        signal: req.signal,
        redirect: "manual",
      });
    } catch (cause) {
      // No response: the caller's abort or the deadline (the transport reports those as such), the
      // network, or CORS (explainErrors tells which). Its cause, a TypeError, says so to explainErrors.
      throw ConnectError.from(cause, 14 satisfies Code.Unavailable);
    }
    // A redirect is not followed, so it fails here too.
    if (!isGrpcWebHead(response)) throw httpError(response, "not gRPC-Web");
    const { headers, body } = response;
    // A trailers-only response (status in the headers) has its headers as its trailers, and an empty body.
    const trailersOnly = headers.has(headerStatus);
    const trailer = trailersOnly ? headers : new Headers();
    // The replies as their frames arrive, then the status; a compressed frame must be in the encoding
    // the call offered.
    let message: AsyncIterable<MessageShape<DescMessage>> | MessageShape<DescMessage> = (async function* () {
      let ended = trailersOnly;
      for await (let [flags, data] of body ? readFrames(body) : []) {
        if (ended) throw protocolError("data after the status");
        if (flags & compressedFlag) {
          if (!codec) throw protocolError("compressed frame, no encoding offered");
          data = await codec.decompress(data, headers);
        }
        if (flags & trailerFlag) {
          parseTrailer(data, trailer);
          ended = true;
        } else yield fromBinary(req.method.output, data);
      }
      if (!ended) throw httpError(response, "without grpc-status");
      checkStatus(trailer, headers);
    })();
    if (!req.stream) message = await onlyMessage(message);
    // The request's fields and the response's, as connect's transports answer.
    return { ...req, header: headers, trailer, message } as UnaryResponse | StreamResponse;
  };
}
