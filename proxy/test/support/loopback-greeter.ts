// A bare greeter on h2c at any loopback address (127.0.0.2, 127.0.0.3, …), so a test can stand up
// several replicas of one backend on the same port, as the addresses behind one DNS name. Every call
// is answered with one HelloReply naming the address that served it.
import http2, { type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema } from "@grpc-web-bridge/client-web/greeter";
import { frame } from "./chunks.js";

export interface LoopbackGreeter {
  readonly host: string;
  readonly port: number;
  /** Calls served, by every session. */
  readonly calls: () => number;
  /** Every HTTP/2 session accepted, closed ones included. */
  readonly sessions: readonly ServerHttp2Session[];
  /** Stops listening and destroys every session. */
  close(): Promise<void>;
}

/** The reply text a greeter on `host` sends. */
export function greetingFrom(host: string): string {
  return `hello from ${host}`;
}

export async function startLoopbackGreeter(host: string, port = 0): Promise<LoopbackGreeter> {
  const reply = frame(
    0,
    Buffer.from(toBinary(HelloReplySchema, create(HelloReplySchema, { message: greetingFrom(host) }))),
  );
  const sessions: ServerHttp2Session[] = [];
  let calls = 0;
  const server = http2.createServer();
  server.on("session", (session) => sessions.push(session));
  server.on("stream", (stream) => {
    stream.on("error", () => {});
    stream.resume();
    stream.once("end", () => {
      calls++;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(reply);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    host,
    port: (server.address() as AddressInfo).port,
    calls: () => calls,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}
