import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ScriptedServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback HTTP/1.1 server that lets `origin` call it cross-origin (it answers the preflight and
 * exposes every header) and answers each call with `respond`, for replies no proxy would send.
 */
export async function startCorsServer(
  origin: string,
  respond: (res: ServerResponse, cors: Record<string, string>) => void,
): Promise<ScriptedServer> {
  const cors = { "access-control-allow-origin": origin, "access-control-expose-headers": "*" };
  const server = createServer((req, res) => {
    req.resume();
    if (req.method === "OPTIONS") {
      res
        .writeHead(204, {
          ...cors,
          "access-control-allow-methods": "POST",
          "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "",
        })
        .end();
    } else {
      respond(res, cors);
    }
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
