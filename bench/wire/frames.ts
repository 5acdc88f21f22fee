// gRPC length-prefixed frames as the bench sends and checks them. Pure functions, no sockets.
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema, HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";

export const FRAME_HEADER_BYTES = 5;
export const TRAILER_FLAG = 0x80;

/** One frame: flag byte, 4-byte big-endian length, payload. */
export function frame(payload: Uint8Array, flag = 0): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out[0] = flag;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function helloRequestFrame(name: string): Buffer {
  return frame(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name })));
}

/** The serialized HelloReply a verified response must carry, byte for byte. */
export function helloReplyPayload(message: string): Buffer {
  return Buffer.from(toBinary(HelloReplySchema, create(HelloReplySchema, { message })));
}

/** Parses a gRPC-Web trailer block ("name:value\r\n"…); names are case-insensitive. */
export function parseTrailerBlock(block: Buffer): Map<string, string> {
  const trailers = new Map<string, string>();
  for (const line of block.toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return trailers;
}
