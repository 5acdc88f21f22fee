import { Code, GrpcError } from "../protocol/status.js";

// The standard gRPC health service (grpc/grpc doc/health-checking.md, grpc/health/v1/health.proto):
//   message HealthCheckRequest { string service = 1; }
//   message HealthCheckResponse { ServingStatus status = 1; }
// Two one-field messages, so they are coded here by hand rather than generated.

export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";
/** ServingStatus by number. */
export const SERVING_STATUSES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;
export type ServingStatus = (typeof SERVING_STATUSES)[number];

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const FIELD_1_LEN = (1 << 3) | WIRE_LEN;

/** The framed request body: one uncompressed message. `service` "" asks about the whole server. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, "utf8");
  const message =
    name.length === 0 ? name : Buffer.concat([Buffer.from([FIELD_1_LEN]), varint(name.length), name]);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** The status in a framed response body; an unknown number reads as UNKNOWN, as proto3 enums do. */
export function decodeHealthCheckResponse(body: Buffer): ServingStatus | GrpcError {
  if (body.length < 5) return malformed(`${body.length} bytes, not a whole frame`);
  if (body[0] !== 0) return malformed(`frame flags 0x${body[0]?.toString(16)}: compressed or not a message`);
  const end = 5 + body.readUInt32BE(1);
  if (end > body.length) return malformed("the frame is cut short");
  let status = 0;
  for (let at = 5; at < end; ) {
    const tag = readVarint(body, at, end);
    if (!tag) return malformed("a field tag is cut short");
    at = tag.next;
    const wireType = tag.value & 7;
    if (wireType === WIRE_VARINT) {
      const value = readVarint(body, at, end);
      if (!value) return malformed("a number is cut short");
      if (tag.value >>> 3 === 1) status = value.value;
      at = value.next;
    } else if (wireType === WIRE_LEN) {
      const length = readVarint(body, at, end);
      if (!length) return malformed("a length is cut short");
      at = length.next + length.value;
    } else if (wireType === WIRE_I64 || wireType === WIRE_I32) {
      at += wireType === WIRE_I64 ? 8 : 4;
    } else {
      return malformed(`wire type ${wireType}`);
    }
    if (at > end) return malformed("a field runs past the message");
  }
  return SERVING_STATUSES[status] ?? "UNKNOWN";
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A varint of up to 32 bits (tags, lengths, enums), or undefined when it runs past `end`. */
function readVarint(bytes: Buffer, from: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let at = from, shift = 0; at < end && shift < 64; at++, shift += 7) {
    const byte = bytes[at] as number;
    if (shift < 32) value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { value, next: at + 1 };
  }
  return undefined;
}

function malformed(why: string): GrpcError {
  return new GrpcError(Code.INTERNAL, `malformed grpc.health.v1 HealthCheckResponse: ${why}`);
}
