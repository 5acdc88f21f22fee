/** A gRPC-Web media type: base64 text or binary framing, and the message codec suffix ("", "+proto", "+json", …). */
export interface WebContentType {
  readonly text: boolean;
  readonly suffix: string;
}

const GRPC_WEB = "application/grpc-web";
const TEXT = "-text";
// RFC 6838 restricted-name characters after the '+', lower-cased.
const SUFFIX = /^\+[a-z0-9!#$&^_.-]+$/;

/** Classifies a request content-type; undefined when it is not gRPC-Web (→ 415). Case-insensitive; media-type
 *  parameters ("; charset=utf-8", "; version=1") tolerated, as Envoy does. */
export function parseWebContentType(value: string | undefined): WebContentType | undefined {
  if (value === undefined) return undefined;
  const semicolon = value.indexOf(";");
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  if (!type.startsWith(GRPC_WEB)) return undefined;
  const text = type.startsWith(TEXT, GRPC_WEB.length);
  const suffix = type.slice(GRPC_WEB.length + (text ? TEXT.length : 0));
  if (suffix !== "" && !SUFFIX.test(suffix)) return undefined;
  return { text, suffix };
}

/** The native gRPC content-type for the same codec: "application/grpc" + suffix. */
export function upstreamContentType(ct: WebContentType): string {
  return `application/grpc${ct.suffix}`;
}

/** Response encoding: an `Accept` entry naming application/grpc-web-text(+x) or application/grpc-web(+x) wins
 *  (Envoy, tonic: the official client says `Accept: application/grpc-web-text` to ask for text), else the request's.
 *  An Accept entry without a suffix only chooses text or binary: the messages keep the request's codec. */
export function responseContentType(accept: string | undefined, request: WebContentType): WebContentType {
  if (accept === undefined) return request;
  for (const entry of accept.split(",")) {
    const wanted = parseWebContentType(entry);
    if (wanted === undefined) continue;
    if (wanted.suffix === "" && request.suffix !== "") return { text: wanted.text, suffix: request.suffix };
    return wanted;
  }
  return request;
}

/** "application/grpc-web-text+proto" etc. */
export function formatWebContentType(ct: WebContentType): string {
  return `${GRPC_WEB}${ct.text ? TEXT : ""}${ct.suffix}`;
}
