// gRPC-Web response frames as test servers write them, byte for byte.
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema } from "../../src/greeter.js";

/** One frame: the flags byte, the 4-byte big-endian length, the data. */
export function frame(flags: number, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/** The encoded HelloReply with this message text. */
export const helloReply = (text: string) =>
  toBinary(HelloReplySchema, create(HelloReplySchema, { message: text }));

/** An uncompressed message frame holding a HelloReply. */
export const messageFrame = (text: string) => frame(0, helloReply(text));

/** A trailer frame with these "key:value\r\n" lines. */
export const trailerFrame = (block: string) => frame(0x80, new TextEncoder().encode(block));
