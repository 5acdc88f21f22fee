import { type Server, ServerCredentials } from "@grpc/grpc-js";
import type { Listener } from "./h2c-server.js";

/** Has a grpc-js `server` listen on loopback without TLS (port 0: a free one); closing it ends its calls at once. */
export async function listenOnLoopback(server: Server, port = 0): Promise<Listener> {
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, chosen) =>
      error ? reject(error) : resolve(chosen),
    ),
  );
  return {
    port: bound,
    close: async () => {
      server.forceShutdown();
    },
  };
}
