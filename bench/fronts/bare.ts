// Setup R: a bare gRPC-Web → gRPC pass-through, the floor the proxy is measured against. It pipes
// the request body into one node:http2 stream on a shared session and the reply back, then the
// trailer frame; no routing, limits, CORS, logs or metrics, and no checks beyond what the bench's
// own calls need. Not a product: it trusts its client. Usage: bare.ts <port> <upstream URL>
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";

const [, , port, upstream] = process.argv;
if (!upstream) throw new Error("usage: bare.ts <port> <upstream URL>");

const { NGHTTP2_CANCEL } = http2.constants;
const TRAILER_FLAG = 0x80;
/** The same upstream flow-control window the proxy uses, so the two differ only in what they do per call. */
const WINDOW = 1024 * 1024;

let session: ClientHttp2Session | undefined;

function upstreamSession(): ClientHttp2Session {
  if (session && !session.closed && !session.destroyed) return session;
  const opened = http2.connect(upstream as string, { settings: { initialWindowSize: WINDOW } });
  opened.on("connect", () => opened.setLocalWindowSize(WINDOW));
  opened.on("error", () => undefined);
  opened.on("close", () => {
    if (session === opened) session = undefined;
  });
  session = opened;
  return opened;
}

function trailerFrame(trailers: IncomingHttpHeaders): Buffer {
  let block = "";
  for (const [name, value] of Object.entries(trailers)) {
    if (!name.startsWith(":") && value !== undefined) block += `${name}:${value}\r\n`;
  }
  const body = Buffer.from(block);
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = TRAILER_FLAG;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

function statusHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("grpc-") && typeof value === "string") out[name] = value;
  }
  return out;
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  const contentType = req.headers["content-type"] ?? "";
  const text = contentType.startsWith("application/grpc-web-text");
  const stream = upstreamSession().request({
    ":method": "POST",
    ":path": req.url ?? "/",
    "content-type": "application/grpc",
    te: "trailers",
  });
  let ended = false;
  res.on("close", () => {
    if (!ended && !stream.closed) stream.close(NGHTTP2_CANCEL);
  });
  if (text) {
    // Text requests are one small message in the bench: decode the whole body at once.
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => stream.end(Buffer.from(Buffer.concat(parts).toString("latin1"), "base64")));
  } else {
    req.pipe(stream);
  }
  const webType = text ? "application/grpc-web-text+proto" : "application/grpc-web+proto";
  stream.on("response", (headers, flags) => {
    if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) {
      ended = true;
      res.writeHead(200, { "content-type": webType, ...statusHeaders(headers) }).end();
      return;
    }
    res.writeHead(200, { "content-type": webType });
  });
  stream.on("data", (chunk: Buffer) => {
    const ok = res.write(text ? chunk.toString("base64") : chunk);
    if (!ok) {
      stream.pause();
      res.once("drain", () => stream.resume());
    }
  });
  stream.on("trailers", (trailers) => {
    ended = true;
    const frame = trailerFrame(trailers);
    res.end(text ? frame.toString("base64") : frame);
  });
  stream.on("error", () => undefined);
  stream.on("close", () => {
    if (ended) return;
    ended = true;
    if (!res.headersSent) res.writeHead(200, { "content-type": webType, "grpc-status": "14" });
    res.end();
  });
}

http.createServer(serve).listen(Number(port), "127.0.0.1");
// Exit with the bench (see serveTheBench): R has no Greeter calls of its own to count.
process.on("disconnect", () => process.exit(0));
