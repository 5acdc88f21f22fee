// Loopback listeners for the test servers: HTTP/2 cleartext, and HTTP/1.1 for the gRPC-Web references.
import type { Server as HttpServer } from "node:http";
import type { Http2Server, ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";

export interface Listener {
  readonly port: number;
  /** Stops listening and ends every connection it accepted. */
  close(): Promise<void>;
}

export interface H2cListener extends Listener {
  /** Every HTTP/2 session accepted, in order, closed ones included. */
  readonly sessions: readonly ServerHttp2Session[];
}

/** Starts an HTTP/2 `server` on 127.0.0.1:`port` (0: any free port) and keeps track of its sessions. */
export async function listenH2c(server: Http2Server, port = 0): Promise<H2cListener> {
  const sessions: ServerHttp2Session[] = [];
  server.on("session", (session) => sessions.push(session));
  await listen(server, port);
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}

/** Starts an HTTP/1.1 `server` on a free 127.0.0.1 port. */
export async function listenHttp1(server: HttpServer): Promise<Listener & { url: string }> {
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: HttpServer | Http2Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}
