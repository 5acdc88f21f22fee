// A raw gRPC-Web client over node:http (HTTP/1.1, not fetch), so a test controls every request
// header and byte, and sees every response byte and when it arrived.
import http, { type IncomingHttpHeaders } from "node:http";
import { frame } from "./chunks.js";
import { Base64Quanta, type ParsedWebBody, WebBodyParser, type WebMessage } from "./grpc-web-body.js";
import { percentDecode } from "./percent-decode.js";

export interface GrpcWebCallOptions {
  /** The request body, sent exactly as given (already framed; already base64 for text mode). */
  body?: Buffer;
  /** One message, framed for you (and base64-encoded when `text`). Without body or message: no body. */
  message?: Uint8Array;
  /** Sends application/grpc-web-text and asks for it back with Accept. */
  text?: boolean;
  /** Default application/grpc-web-text or application/grpc-web+proto; "" sends no content-type. */
  contentType?: string;
  /** Default: the content type. "" sends no Accept. */
  accept?: string;
  /** More request headers; they win over the defaults. */
  headers?: Record<string, string>;
  /** Default POST. */
  method?: string;
  signal?: AbortSignal;
  /** Reuse connections as a browser does; default: a connection of the call's own. */
  agent?: http.Agent;
  /** Hears of each response message as it arrives. */
  onMessage?: (message: WebMessage) => void;
}

export interface GrpcWebResult extends ParsedWebBody {
  /** The HTTP status. */
  status: number;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** grpc-status from the trailer frame, else from the headers (Trailers-Only). */
  grpcStatus: number | undefined;
  /** grpc-message from the same place, percent-decoded. */
  grpcMessage: string | undefined;
}

/** The response ended before its body did (the server cut the connection); `partial` is what came. */
export class IncompleteResponseError extends Error {
  constructor(readonly partial: GrpcWebResult) {
    super(`the response body was cut off after ${partial.rawBody.length} bytes`);
  }
}

/** The response ended, but its gRPC-Web body is not whole frames ending at the trailer frame. */
export class MalformedResponseError extends Error {
  constructor(
    readonly result: GrpcWebResult,
    why: string,
  ) {
    super(`malformed gRPC-Web response body: ${why}`);
  }
}

export function grpcWebCall(
  baseUrl: string,
  path: string,
  options: GrpcWebCallOptions = {},
): Promise<GrpcWebResult> {
  const contentType =
    options.contentType ?? (options.text ? "application/grpc-web-text" : "application/grpc-web+proto");
  const accept = options.accept ?? contentType;
  const body = options.body ?? requestBody(options);
  const headers = {
    ...(contentType ? { "content-type": contentType } : {}),
    ...(accept ? { accept } : {}),
    "content-length": String(body.length),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const sentAt = performance.now();
    const request = http.request(new URL(path, baseUrl), {
      method: options.method ?? "POST",
      headers,
      // By default a connection of its own: nothing pooled outlives the test or leaks between calls.
      agent: options.agent ?? false,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    request.once("error", reject);
    request.once("response", (response) => {
      const isText = String(response.headers["content-type"]).startsWith("application/grpc-web-text");
      const isGrpcWeb = String(response.headers["content-type"]).startsWith("application/grpc-web");
      const base64 = new Base64Quanta();
      const frames = new WebBodyParser(options.onMessage);
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        if (!isGrpcWeb) return;
        const at = performance.now() - sentAt;
        frames.push(isText ? base64.push(chunk.toString("latin1")) : chunk, at);
      });
      response.once("error", () => {});
      response.once("close", () => {
        const result = webResult(response.statusCode ?? 0, response.headers, Buffer.concat(chunks), frames);
        if (!response.complete) {
          reject(options.signal?.aborted ? options.signal.reason : new IncompleteResponseError(result));
          return;
        }
        const malformed = isGrpcWeb ? frames.end() : undefined;
        if (malformed) reject(new MalformedResponseError(result, malformed));
        else resolve(result);
      });
    });
    request.end(body);
  });
}

function requestBody({ message, text }: GrpcWebCallOptions): Buffer {
  if (message === undefined) return Buffer.alloc(0);
  const framed = frame(0, Buffer.from(message.buffer, message.byteOffset, message.byteLength));
  return text ? Buffer.from(framed.toString("base64")) : framed;
}

function webResult(
  status: number,
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  body: ParsedWebBody,
): GrpcWebResult {
  return {
    status,
    headers,
    rawBody,
    messages: body.messages,
    trailers: body.trailers,
    trailerFrameCount: body.trailerFrameCount,
    ...grpcStatusOf(headers, body.trailers),
  };
}

/** grpc-status and grpc-message (percent-decoded) from the trailer frame, else from the headers (Trailers-Only). */
export function grpcStatusOf(
  headers: IncomingHttpHeaders,
  trailers: Record<string, string> | undefined,
): { grpcStatus: number | undefined; grpcMessage: string | undefined } {
  const source = trailers?.["grpc-status"] === undefined ? headers : trailers;
  const grpcStatus = source["grpc-status"];
  const grpcMessage = source["grpc-message"];
  return {
    grpcStatus: grpcStatus === undefined ? undefined : Number(grpcStatus),
    grpcMessage: grpcMessage === undefined ? undefined : percentDecode(String(grpcMessage)),
  };
}
