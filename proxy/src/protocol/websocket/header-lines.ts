import type { IncomingHttpHeaders } from "node:http";
import { FORWARDING_HEADERS } from "../metadata.js";
import { Code, GrpcError } from "../status.js";

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TILDE = 0x7e;
const COLON = 0x3a;

// RFC 9110 §5.6.2 token: a field name. A space before the colon is not allowed (RFC 9112 §5.1).
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The first client message of a grpc-websockets call → request metadata: `name: value` lines ending in CRLF (LF
 * alone is accepted, as HTTP/1 parsers do), names lower-cased, values trimmed, a repeated name's values joined with
 * ", " as Node does for request headers, blank lines ignored. improbable's client writes exactly
 * `${name}: ${values.join(", ")}\r\n` per name, and nothing when there is no metadata (an empty message).
 *
 * Anything else is not header lines and is refused with INTERNAL, not guessed at: a byte outside printable ASCII
 * (a client that sent a gRPC frame first lands here), a folded line, a line without a name before its colon.
 */
export function parseHeaderLines(block: Uint8Array): Record<string, string> | GrpcError {
  for (let at = 0; at < block.length; at++) {
    const byte = block[at] as number;
    if ((byte < SPACE || byte > TILDE) && byte !== HTAB && byte !== LF && byte !== CR) {
      return notHeaderLines(
        `byte 0x${byte.toString(16).padStart(2, "0")} at offset ${at} is not printable ASCII`,
      );
    }
  }
  // No prototype: a page's line named "constructor" or "__proto__" is a name like any other.
  const headers: Record<string, string> = Object.create(null);
  const lines = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString("latin1").split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") continue;
    const number = index + 1;
    if (line.includes("\r")) return notHeaderLines(`line ${number} has a CR that does not end it`);
    const first = line.charCodeAt(0);
    if (first === SPACE || first === HTAB) {
      return notHeaderLines(`line ${number} starts with whitespace (folded lines are not allowed)`);
    }
    const colon = line.indexOf(String.fromCharCode(COLON));
    const name = colon === -1 ? "" : line.slice(0, colon);
    if (!FIELD_NAME.test(name)) {
      return notHeaderLines(`line ${number} is not "name: value"`);
    }
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const earlier = headers[key];
    headers[key] = earlier === undefined ? value : `${earlier}, ${value}`;
  }
  return headers;
}

function notHeaderLines(why: string): GrpcError {
  return new GrpcError(
    Code.INTERNAL,
    `the first message of a grpc-websockets call must be the request metadata as "name: value" lines: ${why}`,
  );
}

/**
 * Names a page cannot set on a fetch() (the Fetch standard's forbidden request-header names and the `proxy-` and
 * `sec-` prefixes): the browser sets them, so for a WebSocket call they come from the upgrade request and a first
 * message's line never replaces them: a page must not be able to claim another `origin` or `cookie` upstream.
 */
const SET_BY_THE_BROWSER: ReadonlySet<string> = new Set([
  "accept-charset",
  "accept-encoding",
  "access-control-request-headers",
  "access-control-request-method",
  "connection",
  "content-length",
  "cookie",
  "cookie2",
  "date",
  "dnt",
  "expect",
  "host",
  "keep-alive",
  "origin",
  "referer",
  "set-cookie",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "via",
]);
const SET_BY_THE_BROWSER_PREFIXES = ["proxy-", "sec-"];

/** The handshake's own fields (key, version, protocol, extensions): they describe the WebSocket, not the call. */
const WEBSOCKET_HANDSHAKE_PREFIX = "sec-websocket-";

function pageMaySet(name: string): boolean {
  if (SET_BY_THE_BROWSER.has(name) || FORWARDING_HEADERS.has(name)) return false;
  return !SET_BY_THE_BROWSER_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/**
 * The request headers of a WebSocket call, as an HTTP call's would look, for the same metadata rules
 * (`upstreamRequestHeaders`) downstream: the upgrade request's headers (what the browser set: origin, cookie,
 * user-agent, sec-fetch-*; and a trusted proxy's forwarding headers) without the handshake's own, then the first
 * message's lines (what the page set: authorization, grpc-timeout, content-type, custom metadata), each replacing
 * the upgrade's value of that name, except the names a page cannot set, which are dropped from the lines.
 */
export function callHeaders(
  upgrade: IncomingHttpHeaders,
  firstMessage: Readonly<Record<string, string>>,
): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = Object.create(null);
  for (const name of Object.keys(upgrade)) {
    if (!name.startsWith(WEBSOCKET_HANDSHAKE_PREFIX)) headers[name] = upgrade[name];
  }
  for (const name of Object.keys(firstMessage)) {
    if (pageMaySet(name)) headers[name] = firstMessage[name];
  }
  return headers;
}
