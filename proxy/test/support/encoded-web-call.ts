// A gRPC-Web call over node:http that asks for HTTP compression (Accept-Encoding) and undoes it as a browser
// does, piece by piece as the bytes arrive, counting what crossed the wire and what it decoded to.
import http, { type IncomingHttpHeaders } from "node:http";
import type { Transform } from "node:stream";
import { createBrotliDecompress, createGunzip } from "node:zlib";
import { frame } from "./chunks.js";
import { Base64Quanta, WebBodyParser, type WebMessage } from "./grpc-web-body.js";

export interface EncodedCallOptions {
  readonly message: Uint8Array;
  /** application/grpc-web-text both ways. */
  readonly text?: boolean;
  /** Sent as Accept-Encoding; undefined sends none. */
  readonly acceptEncoding?: string;
  readonly headers?: Record<string, string>;
  /** Hears of each response message as soon as it is decoded. */
  readonly onMessage?: (message: WebMessage) => void;
}

export interface EncodedResult {
  readonly headers: IncomingHttpHeaders;
  /** Response body bytes as they crossed the wire. */
  readonly wireBytes: number;
  /** The same after undoing Content-Encoding. */
  readonly decodedBytes: number;
  readonly messages: WebMessage[];
  readonly trailers: Record<string, string> | undefined;
}

/** What undoes a Content-Encoding the proxy writes; undefined for none. */
export function decoderFor(coding: string | undefined): Transform | undefined {
  if (coding === "gzip") return createGunzip();
  if (coding === "br") return createBrotliDecompress();
  return undefined;
}

export function encodedWebCall(
  baseUrl: string,
  path: string,
  options: EncodedCallOptions,
): Promise<EncodedResult> {
  const contentType = options.text ? "application/grpc-web-text" : "application/grpc-web+proto";
  const framed = frame(0, Buffer.from(options.message));
  const body = options.text ? Buffer.from(framed.toString("base64")) : framed;
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, baseUrl), {
      method: "POST",
      agent: false,
      headers: {
        "content-type": contentType,
        accept: contentType,
        ...(options.acceptEncoding !== undefined && { "accept-encoding": options.acceptEncoding }),
        ...options.headers,
      },
    });
    request.once("error", reject);
    request.once("response", (response) => {
      const frames = new WebBodyParser(options.onMessage);
      const base64 = new Base64Quanta();
      let wireBytes = 0;
      let decodedBytes = 0;
      const decoder = decoderFor(response.headers["content-encoding"]);
      const decoded = decoder ?? response;
      response.on("data", (chunk: Buffer) => {
        wireBytes += chunk.length;
      });
      decoded.on("data", (chunk: Buffer) => {
        decodedBytes += chunk.length;
        frames.push(options.text ? base64.push(chunk.toString("latin1")) : chunk, 0);
      });
      decoded.once("error", reject);
      decoded.once("end", () => {
        const malformed = frames.end();
        if (malformed) reject(new Error(`malformed gRPC-Web body: ${malformed}`));
        else
          resolve({
            headers: response.headers,
            wireBytes,
            decodedBytes,
            messages: frames.messages,
            trailers: frames.trailers,
          });
      });
      if (decoder) response.pipe(decoder);
    });
    request.end(body);
  });
}
