/** A gRPC-Web media type: base64 text or binary framing, and the message codec suffix ("", "+proto", "+json", …). */
export interface WebContentType {
  readonly text: boolean;
  readonly suffix: string;
}

const GRPC_WEB = "application/grpc-web";
const TEXT = "-text";
// RFC 6838 restricted-name characters after the '+', lower-cased.
const SUFFIX = /^\+[a-z0-9!#$&^_.-]+$/;

/** A known type's names on both hops, made once. */
interface TypeNames {
  readonly web: string;
  readonly upstream: string;
}

/**
 * The types browsers send, one value each, by name, and their names by value: a call of one of them holds no object
 * or string of its own for its types (an open stream holds them for as long as it is open).
 */
const KNOWN = new Map<string, WebContentType>();
const NAMES = new Map<WebContentType, TypeNames>();
for (const suffix of ["", "+proto", "+json"]) {
  for (const text of [false, true]) {
    const type: WebContentType = { text, suffix };
    const web = format(text, suffix);
    KNOWN.set(web, type);
    NAMES.set(type, { web, upstream: `application/grpc${suffix}` });
  }
}

/** The names of the types browsers send, as they send them. */
export const WEB_CONTENT_TYPE_NAMES: readonly string[] = [...KNOWN.keys()];

function format(text: boolean, suffix: string): string {
  return `${GRPC_WEB}${text ? TEXT : ""}${suffix}`;
}

/** Classifies a request content-type; undefined when it is not gRPC-Web (→ 415). Case-insensitive; media-type
 *  parameters ("; charset=utf-8", "; version=1") tolerated, as Envoy does. */
export function parseWebContentType(value: string | undefined): WebContentType | undefined {
  if (value === undefined) return undefined;
  const semicolon = value.indexOf(";");
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const shared = KNOWN.get(type);
  if (shared !== undefined) return shared;
  if (!type.startsWith(GRPC_WEB)) return undefined;
  const text = type.startsWith(TEXT, GRPC_WEB.length);
  const suffix = type.slice(GRPC_WEB.length + (text ? TEXT.length : 0));
  if (suffix !== "" && !SUFFIX.test(suffix)) return undefined;
  return { text, suffix };
}

/** The native gRPC content-type for the same codec: "application/grpc" + suffix. */
export function upstreamContentType(ct: WebContentType): string {
  return NAMES.get(ct)?.upstream ?? `application/grpc${ct.suffix}`;
}

/** Response encoding: an `Accept` entry naming application/grpc-web-text(+x) or application/grpc-web(+x) wins
 *  (Envoy, tonic: the official client says `Accept: application/grpc-web-text` to ask for text), else the request's.
 *  An Accept entry without a suffix only chooses text or binary: the messages keep the request's codec. */
export function responseContentType(accept: string | undefined, request: WebContentType): WebContentType {
  if (accept === undefined) return request;
  for (const entry of accept.split(",")) {
    const wanted = parseWebContentType(entry);
    if (wanted === undefined) continue;
    if (wanted.suffix === "" && request.suffix !== "") {
      return KNOWN.get(format(wanted.text, request.suffix)) ?? { text: wanted.text, suffix: request.suffix };
    }
    return wanted;
  }
  return request;
}

/** "application/grpc-web-text+proto" etc. */
export function formatWebContentType(ct: WebContentType): string {
  return NAMES.get(ct)?.web ?? format(ct.text, ct.suffix);
}
