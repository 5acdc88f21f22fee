import type { OutgoingHttpHeaders } from "node:http";
import type { Http2ServerResponse } from "node:http2";

/**
 * connect-node writes the response headers before it knows whether a message follows, so a call that
 * ends before its first message goes out as HEADERS and then trailers, where grpc-js and grpcio send
 * one Trailers-Only HEADERS frame. The proxy must meet the same wire from every backend, so this holds
 * connect's writeHead back until Node's compat layer sends the headers itself (on the first body write,
 * or with END_STREAM on end()), and folds trailers added before then into those headers.
 */
export function trailersOnlyWhenBodyless(res: Http2ServerResponse): void {
  const writeHead = res.writeHead.bind(res);
  res.writeHead = ((statusCode: number, headers?: OutgoingHttpHeaders) => {
    // The compat layer's own write() and end() call writeHead(statusCode) alone: those really send.
    if (headers === undefined) return writeHead(statusCode);
    res.statusCode = statusCode;
    setHeaders(res, headers);
    return res;
  }) as typeof res.writeHead;
  const addTrailers = res.addTrailers.bind(res);
  res.addTrailers = (trailers) => (res.headersSent ? addTrailers(trailers) : setHeaders(res, trailers));
}

function setHeaders(res: Http2ServerResponse, headers: OutgoingHttpHeaders): void {
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
}
