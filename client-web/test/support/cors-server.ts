import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type LoopbackServer, listenOnLoopback } from "./loopback-server.js";

/**
 * A loopback HTTP/1.1 server that lets `origin` call it cross-origin (it answers the preflight and
 * exposes every header) and answers each call with `respond`, for replies no proxy would send.
 * `respond` reads the request body, or resumes it.
 */
export async function startCorsServer(
  origin: string,
  respond: (res: ServerResponse, cors: Record<string, string>, req: IncomingMessage) => void,
): Promise<LoopbackServer> {
  const cors = { "access-control-allow-origin": origin, "access-control-expose-headers": "*" };
  const server = createServer((req, res) => {
    if (req.method === "OPTIONS") {
      req.resume();
      res
        .writeHead(204, {
          ...cors,
          "access-control-allow-methods": "POST",
          "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "",
        })
        .end();
    } else {
      respond(res, cors, req);
    }
  });
  return listenOnLoopback(server);
}
