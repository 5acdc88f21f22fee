/** gRPC status codes (grpc/grpc doc/statuscodes.md). */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const NAMES: readonly string[] = Object.keys(Code);

/** "DEADLINE_EXCEEDED" for 4; codes beyond the table still reach clients (backends do send them), so they get a name too. */
export function codeName(code: number): string {
  return NAMES[code] ?? `CODE_${code}`;
}

/** An error as a value: a gRPC status the proxy answers with. */
export class GrpcError extends Error {
  override readonly name = "GrpcError";
  readonly code: number;

  /** `cause` is for the operator's log: what a browser sees is `message` alone. */
  constructor(code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** For a reply without grpc-status only (doc/http-grpc-status-mapping.md): a grpc-status, when present, always wins. */
export function codeFromHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      // 200 included: a "successful" reply that carries no status is not a gRPC answer.
      return Code.UNKNOWN;
  }
}

/** HTTP/2 error codes (RFC 9113 §7) that doc/PROTOCOL-HTTP2.md "Errors" maps to something other than INTERNAL. */
const RST_NO_ERROR = 0x0;
const RST_REFUSED_STREAM = 0x7;
const RST_CANCEL = 0x8;
const RST_ENHANCE_YOUR_CALM = 0xb;
const RST_INADEQUATE_SECURITY = 0xc;

/** A stream reset by the upstream before it sent a status. REFUSED_STREAM → UNAVAILABLE tells clients the call never
 *  started and may be retried. NO_ERROR maps to INTERNAL here because a reset *after* complete trailers (the legal
 *  "early server closure") never reaches this function: the caller already has a status then. */
export function codeFromRstCode(rstCode: number): number {
  switch (rstCode) {
    case RST_NO_ERROR:
      return Code.INTERNAL;
    case RST_REFUSED_STREAM:
      return Code.UNAVAILABLE;
    case RST_CANCEL:
      return Code.CANCELLED;
    case RST_ENHANCE_YOUR_CALM:
      return Code.RESOURCE_EXHAUSTED;
    case RST_INADEQUATE_SECURITY:
      return Code.PERMISSION_DENIED;
    default:
      return Code.INTERNAL;
  }
}

// grpc-message is "Percent-Encoded" (doc/PROTOCOL-HTTP2.md): UTF-8 bytes, with every byte outside
// %x20-%x24 / %x26-%x7E written as %XX. '%' (0x25) is outside, so it is always encoded.
const NEEDS_PERCENT_ENCODING = /[^\x20-\x24\x26-\x7e]/;
const PERCENT = 0x25;

function isUnreserved(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e && byte !== PERCENT;
}

export function encodeGrpcMessage(message: string): string {
  if (!NEEDS_PERCENT_ENCODING.test(message)) return message;
  let encoded = "";
  for (const byte of Buffer.from(message, "utf8")) {
    encoded += isUnreserved(byte)
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

function hexDigitValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Decoders "MUST NOT" fail on bad encodings (doc/PROTOCOL-HTTP2.md): a '%' not followed by two hex digits stays as
 *  written, and decoded bytes that are not valid UTF-8 become U+FFFD. */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  const bytes = Buffer.from(value, "utf8");
  const decoded = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === PERCENT) {
      const high = hexDigitValue(bytes[i + 1]);
      const low = hexDigitValue(bytes[i + 2]);
      if (high >= 0 && low >= 0) {
        decoded[length++] = high * 16 + low;
        i += 2;
        continue;
      }
    }
    decoded[length++] = byte;
  }
  return decoded.toString("utf8", 0, length);
}

const DEFAULT_BODY_PREFIX_BYTES = 1024;
const UTF8_CONTINUATION_MASK = 0xc0;
const UTF8_CONTINUATION = 0x80;
const UTF8_MAX_CONTINUATIONS = 3;

/** Where to cut `body` to at most `limit` bytes without splitting a UTF-8 sequence. */
function utf8SafeCut(body: Uint8Array, limit: number): number {
  if (body.length <= limit) return body.length;
  let cut = limit;
  while (
    cut > limit - UTF8_MAX_CONTINUATIONS &&
    cut > 0 &&
    ((body[cut] as number) & UTF8_CONTINUATION_MASK) === UTF8_CONTINUATION
  ) {
    cut--;
  }
  return cut;
}

/** grpc-message for a non-gRPC upstream reply (e.g. an HTML 502 from a load balancer): a bounded UTF-8-safe
 *  prefix of the body (at most `limit` bytes, default 1024), with the HTTP status, unencoded (caller encodes).
 *  Bounded because the whole trailer block should stay within about 8 KiB (doc/PROTOCOL-HTTP2.md). */
export function messageFromNonGrpcReply(
  httpStatus: number,
  contentType: string | undefined,
  body: Uint8Array,
  limit = DEFAULT_BODY_PREFIX_BYTES,
): string {
  const summary = `upstream replied HTTP ${httpStatus} with ${contentType ? `content-type ${contentType}` : "no content-type"}, not gRPC`;
  const cut = utf8SafeCut(body, limit);
  const prefix = Buffer.from(body.buffer, body.byteOffset, cut).toString("utf8").trim();
  if (prefix === "") return summary;
  return `${summary}: ${prefix}${cut < body.length ? "..." : ""}`;
}
