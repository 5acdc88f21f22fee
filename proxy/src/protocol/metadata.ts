import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

export interface UpstreamRequestContext {
  /** "/pkg.Svc/Method" (already without query string). */
  readonly path: string;
  /** Upstream :authority. */
  readonly authority: string;
  /** application/grpc[+x] */
  readonly contentType: string;
  /** Encoded remaining grpc-timeout, or undefined. */
  readonly timeout: string | undefined;
  readonly clientAddress: string | undefined;
  /** The scheme the browser used to reach the proxy, for x-forwarded-proto. */
  readonly clientProtocol?: "http" | "https";
  /**
   * Whether the client is a proxy of the operator's whose forwarding headers tell the truth: then they are kept
   * and x-forwarded-for is appended to. Default false: a browser's own forwarding headers are dropped and replaced
   * with what this proxy saw, so a caller cannot pose as another address, host or scheme.
   */
  readonly trustForwarded?: boolean;
  /** The proxy's own span's W3C trace context, which replaces the browser's: the backend's parent is the proxy. */
  readonly traceparent?: string | undefined;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1, RFC 2616 §13.5.1, RFC 7540 §3.2.1's HTTP2-Settings of an h2c upgrade): they
 *  describe one connection and never cross a proxy. Node's http2 client throws synchronously on the first six, and
 *  on any te but exactly "trailers". */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "te",
  "trailer",
  "proxy-authorization",
] as const;

const NOT_FORWARDED_UPSTREAM: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  // HTTP/1 framing and routing: content-length counts the browser's body bytes, not the DATA the proxy sends
  // (which differ in text mode); host becomes :authority (and x-forwarded-host).
  "host",
  "content-length",
  // Set from the call instead: accept names grpc-web types a native backend does not speak.
  "content-type",
  "accept",
  "grpc-timeout",
  // Negotiates the HTTP body coding of the proxy's own reply; gRPC has grpc-accept-encoding for its messages.
  "accept-encoding",
  // CORS preflight questions, which the proxy answers itself. `origin` and the sec-fetch-* headers do go upstream:
  // they are the backend's only record of which site made the call (CSRF checks, audit), as behind Envoy.
  "access-control-request-method",
  "access-control-request-headers",
  // A status is what a server answers; on a request it means nothing, and servers that log it are misled.
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
]);

/** Headers by which proxies in front tell where a request came from; believed only from a trusted client. */
export const FORWARDING_HEADERS: ReadonlySet<string> = new Set([
  "forwarded",
  "via",
  "x-real-ip",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-prefix",
]);

// doc/PROTOCOL-HTTP2.md Header-Name: 1*( %x30-39 / %x61-7A / "_" / "-" / "." ). This also drops pseudo-headers
// (an HTTP/2 browser connection) and HTTP-legal names such as "x!y" that a gRPC server may reject.
const GRPC_METADATA_NAME = /^[0-9a-z_.-]+$/;

/** True for a request header name the proxy forwards to the backend as metadata (a `Connection` header may still
 *  name it hop-by-hop). */
export function isForwardedMetadataName(name: string): boolean {
  return !NOT_FORWARDED_UPSTREAM.has(name) && GRPC_METADATA_NAME.test(name);
}

/** Names a `Connection` header lists are hop-by-hop too (RFC 9110 §7.6.1). Usually it lists only keep-alive. */
function namesListedIn(connection: string | undefined): ReadonlySet<string> | undefined {
  if (connection === undefined) return undefined;
  const names = connection
    .toLowerCase()
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "" && name !== "keep-alive" && name !== "close");
  return names.length === 0 ? undefined : new Set(names);
}

function forwardedFor(
  incoming: string | string[] | undefined,
  clientAddress: string | undefined,
): string | undefined {
  const earlier = Array.isArray(incoming) ? incoming.join(", ") : incoming;
  if (clientAddress === undefined) return earlier;
  return earlier ? `${earlier}, ${clientAddress}` : clientAddress;
}

/** Browser request headers → HTTP/2 request headers for the upstream: drops hop-by-hop and HTTP/1-only headers and
 *  a request's grpc-status, re-sets content-type and grpc-timeout, adds the pseudo-headers, te: trailers
 *  (doc/PROTOCOL-HTTP2.md: "used to detect incompatible proxies"; some servers reject calls without it),
 *  x-forwarded-for, x-forwarded-host and x-forwarded-proto (see `trustForwarded`), and
 *  grpc-accept-encoding: identity unless the client sent one, so the backend does not compress messages for a
 *  client that cannot decompress them. One new object, built once. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  ctx: UpstreamRequestContext,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ":method": "POST",
    // No :scheme: Node's client sets it from the session (http for h2c, https for TLS).
    ":authority": ctx.authority,
    ":path": ctx.path,
    "content-type": ctx.contentType,
    te: "trailers",
  };
  const listed = namesListedIn(incoming.connection);
  const trusted = ctx.trustForwarded === true;
  for (const name of Object.keys(incoming)) {
    if (NOT_FORWARDED_UPSTREAM.has(name) || listed?.has(name) || !GRPC_METADATA_NAME.test(name)) continue;
    if (!trusted && FORWARDING_HEADERS.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) headers[name] = value;
  }
  if (ctx.timeout !== undefined) headers["grpc-timeout"] = ctx.timeout;
  if (ctx.traceparent !== undefined) headers.traceparent = ctx.traceparent;
  const xff = forwardedFor(trusted ? incoming["x-forwarded-for"] : undefined, ctx.clientAddress);
  if (xff !== undefined) headers["x-forwarded-for"] = xff;
  if (incoming.host !== undefined) headers["x-forwarded-host"] ??= incoming.host;
  if (ctx.clientProtocol !== undefined) headers["x-forwarded-proto"] ??= ctx.clientProtocol;
  headers["grpc-accept-encoding"] ??= "identity";
  return headers;
}

const NOT_RETURNED_DOWNSTREAM: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  // The proxy sets its own: a grpc-web type, and HTTP/1 framing of the bytes it actually writes.
  "content-type",
  "content-length",
]);

/** CORS is the proxy's to grant: a backend's access-control-* would widen what the operator allowed. */
const CORS_PREFIX = "access-control-";

/** Upstream response headers (or trailers) → [name, value] pairs to send to the browser: drops pseudo-headers,
 *  content-type, content-length, hop-by-hop and access-control-*, and set-cookie unless `passSetCookie`; keeps
 *  grpc-status/grpc-message/grpc-status-details-bin/-bin keys verbatim; array values (node merges duplicates)
 *  become one comma-joined value — except set-cookie, one pair per cookie, because a cookie's Expires date has a
 *  comma of its own. */
export function responseMetadata(
  headers: IncomingHttpHeaders,
  passSetCookie = false,
): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const name of Object.keys(headers)) {
    if (name.startsWith(":") || NOT_RETURNED_DOWNSTREAM.has(name) || name.startsWith(CORS_PREFIX)) continue;
    if (name === "set-cookie" && !passSetCookie) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === "string") pairs.push([name, value]);
    else if (name === "set-cookie") for (const cookie of value) pairs.push([name, cookie]);
    else pairs.push([name, value.join(", ")]);
  }
  return pairs;
}
