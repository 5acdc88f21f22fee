// One gRPC-Web call over an HTTP/2 session (a browser on a TLS connection negotiated to h2 by ALPN).
import type { ClientHttp2Session, IncomingHttpHeaders } from "node:http2";
import { frame } from "./chunks.js";
import { WebBodyParser } from "./grpc-web-body.js";

export interface H2WebResult {
  readonly headers: IncomingHttpHeaders;
  readonly messages: Buffer[];
  /** grpc-status from the trailer frame, else from the headers (Trailers-Only). */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string | undefined;
}

export function h2WebCall(
  session: ClientHttp2Session,
  path: string,
  options: { message?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<H2WebResult> {
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc-web+proto",
    accept: "application/grpc-web+proto",
    ...options.headers,
  });
  const frames = new WebBodyParser();
  let headers: IncomingHttpHeaders = {};
  return new Promise((resolve, reject) => {
    stream.once("error", reject);
    stream.once("response", (h) => {
      headers = h;
    });
    stream.on("data", (chunk: Buffer) => frames.push(chunk, 0));
    stream.once("end", () => {
      const malformed = frames.end();
      if (malformed) return reject(new Error(`malformed gRPC-Web response body: ${malformed}`));
      const source = frames.trailers?.["grpc-status"] === undefined ? headers : frames.trailers;
      const status = source["grpc-status"];
      const message = source["grpc-message"];
      resolve({
        headers,
        messages: frames.messages.map((m) => m.data),
        grpcStatus: status === undefined ? undefined : Number(status),
        grpcMessage: message === undefined ? undefined : decodeURIComponent(String(message)),
      });
    });
    stream.end(options.message === undefined ? undefined : frame(0, Buffer.from(options.message)));
  });
}
