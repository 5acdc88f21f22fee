import { createServer, request } from "node:http";
import { type LoopbackServer, listenOnLoopback } from "./loopback-server.js";

/**
 * An HTTP/1.1 reverse proxy that drops one response header on the way back, the way a CDN or
 * ingress with its own CORS settings can drop Access-Control-Expose-Headers.
 */
export async function startHeaderStripper(target: string, dropped: string): Promise<LoopbackServer> {
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
  return listenOnLoopback(server);
}
