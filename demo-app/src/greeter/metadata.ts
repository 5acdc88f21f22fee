/**
 * Custom request metadata (keys starting with `x-`) comes back as response headers named `echo-<key>`,
 * so a caller can see its metadata make the whole round trip through the proxy.
 */
export function echoMetadata(requestHeader: Headers, responseHeader: Headers): void {
  for (const [key, value] of requestHeader) {
    if (key.startsWith("x-") && !transportHeaders.has(key)) responseHeader.set(`echo-${key}`, value);
  }
}

// Sent by gRPC-Web clients themselves (PROTOCOL-WEB), not metadata a caller chose.
const transportHeaders = new Set(["x-grpc-web", "x-user-agent"]);

/** Trailers every call ends with, so the page has real trailers to show. */
export function summaryTrailers(responseTrailer: Headers, replies: number, startedAt: number): void {
  responseTrailer.set("x-replies-sent", String(replies));
  responseTrailer.set("x-handled-ms", String(Math.round(performance.now() - startedAt)));
}
