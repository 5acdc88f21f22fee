/**
 * Custom request metadata (keys starting with `x-`) comes back as response headers named `echo-<key>`,
 * so a caller can see its metadata make the whole round trip through the proxy.
 */
export function echoMetadata(requestHeader: Headers, responseHeader: Headers): void {
  for (const [key, value] of requestHeader) {
    if (key.startsWith("x-")) responseHeader.set(`echo-${key}`, value);
  }
}

/** Trailers every call ends with, so the page has real trailers to show. */
export function summaryTrailers(responseTrailer: Headers, replies: number, startedAt: number): void {
  responseTrailer.set("x-replies-sent", String(replies));
  responseTrailer.set("x-handled-ms", String(Math.round(performance.now() - startedAt)));
}
