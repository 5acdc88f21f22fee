// One native gRPC call on a bare node:http2 client, to see the wire a backend produces: whether the
// reply is Trailers-Only, and exactly which headers, bytes and trailers came.
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";

export interface H2Reply {
  headers: IncomingHttpHeaders;
  /** A single HEADERS frame that ended the stream (grpc-status in the headers, no body). */
  trailersOnly: boolean;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  /** The RST_STREAM code the stream closed with (0 when it ended normally). */
  rstCode: number;
}

export function h2GrpcCall(
  url: string,
  path: string,
  body: Buffer,
  headers: OutgoingHttpHeaders = {},
): Promise<H2Reply> {
  const session = http2.connect(url);
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  const reply: Omit<H2Reply, "rstCode"> = {
    headers: {},
    trailersOnly: false,
    body: Buffer.alloc(0),
    trailers: undefined,
  };
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    session.once("error", reject);
    stream.on("error", () => {}); // a reset shows as rstCode
    stream.on("response", (responseHeaders, flags) => {
      reply.headers = responseHeaders;
      reply.trailersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("trailers", (trailers) => {
      reply.trailers = trailers;
    });
    stream.on("close", () => {
      session.close();
      resolve({ ...reply, body: Buffer.concat(chunks), rstCode: stream.rstCode ?? 0 });
    });
    stream.end(body);
  });
}
