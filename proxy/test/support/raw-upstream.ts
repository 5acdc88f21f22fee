// A bare node:http2 h2c server for upstream replies the real backends never give: HTML from a load
// balancer, a missing grpc-status, resets, GOAWAY, a stall, half a frame. The test writes the reply.
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from "node:http2";
import { listenH2c } from "./h2c-server.js";

export type RawHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

export interface RawUpstream {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Every HTTP/2 session accepted, in order, closed ones included (to count connections, send GOAWAY). */
  readonly sessions: readonly ServerHttp2Session[];
  /** Stops listening and destroys every session, stalled streams included. */
  close(): Promise<void>;
}

export async function startRawUpstream(handler: RawHandler, port?: number): Promise<RawUpstream> {
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    // A peer that resets first makes stream writes fail; that is the test's business, not a crash.
    stream.on("error", () => {});
    handler(stream, headers);
  });
  const listener = await listenH2c(server, port);
  return { url: `http://127.0.0.1:${listener.port}`, ...listener };
}
