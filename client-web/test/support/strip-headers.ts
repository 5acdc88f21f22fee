import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface Forwarder {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 reverse proxy that drops one response header on the way back, the way a CDN or
 * ingress with its own CORS settings can drop Access-Control-Expose-Headers.
 */
export async function startHeaderStripper(target: string, dropped: string): Promise<Forwarder> {
  const { hostname, port } = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const forwarded = request({
      hostname,
      port,
      method: incoming.method,
      path: incoming.url,
      headers: incoming.headers,
    });
    forwarded.on("response", (response) => {
      delete response.headers[dropped];
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
