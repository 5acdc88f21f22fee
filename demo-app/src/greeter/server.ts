import { once } from "node:events";
import { createServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";
import type { CallObserver } from "./observe.js";
import { greeterService } from "./service.js";

export interface GreeterServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  observer?: CallObserver;
  /** How long close() lets calls in flight finish before it cuts them off. */
  drainMs?: number;
}

export interface RunningGreeter {
  /** The h2c address native gRPC clients (and the proxy) call, e.g. http://127.0.0.1:50051. */
  url: string;
  close(): Promise<void>;
}

/** Starts the greeter as a native gRPC server: HTTP/2 without TLS (h2c), gRPC protocol only. */
export async function startGreeterServer(options: GreeterServerOptions): Promise<RunningGreeter> {
  const handler = connectNodeAdapter({
    routes: (router) => router.service(Greeter, greeterService(options.observer)),
    grpc: true,
    grpcWeb: false,
    connect: false,
  });
  const server = createServer(handler);
  const sessions = new Set<Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.listen(options.port, options.host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    async close() {
      const closed = once(server, "close");
      server.close();
      for (const session of sessions) session.close();
      const cutOff = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, options.drainMs ?? 1000);
      await closed;
      clearTimeout(cutOff);
    },
  };
}
