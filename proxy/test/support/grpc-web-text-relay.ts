// connect-node speaks binary gRPC-Web only. To try the raw client's text mode on real greeter replies,
// this relay re-encodes in front of it: the base64 request body to binary, and each binary response
// chunk to padded base64 the moment it arrives, so padding falls between chunks as the spec allows.
import http from "node:http";
import { Base64Quanta } from "./grpc-web-body.js";
import { type Listener, listenHttp1 } from "./h2c-server.js";

const HOP_BY_HOP = ["host", "connection", "keep-alive", "content-length", "transfer-encoding", "accept"];

export function startTextRelay(binaryUrl: string): Promise<Listener & { url: string }> {
  const server = http.createServer(async (req, res) => {
    const base64 = new Base64Quanta();
    const body: Buffer[] = [];
    for await (const chunk of req) body.push(base64.push(String(chunk)));
    const binary = Buffer.concat(body);
    const upstream = http.request(new URL(req.url ?? "/", binaryUrl), {
      method: req.method,
      agent: false,
      headers: {
        ...without(req.headers),
        "content-type": "application/grpc-web+proto",
        "content-length": binary.length,
      },
    });
    upstream.on("response", (reply) => {
      res.writeHead(reply.statusCode ?? 502, {
        ...without(reply.headers),
        "content-type": "application/grpc-web-text",
      });
      reply.on("data", (chunk: Buffer) => res.write(chunk.toString("base64")));
      reply.on("end", () => res.end());
    });
    upstream.on("error", () => res.destroy());
    upstream.end(binary);
  });
  return listenHttp1(server);
}

function without(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.includes(name)));
}
