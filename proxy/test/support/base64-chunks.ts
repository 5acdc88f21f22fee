import { Base64Decoder } from "../../src/protocol/base64.js";
import { GrpcError } from "../../src/protocol/status.js";

/** Decodes `chunks` with one decoder; the first error, from push or end, is returned instead of the bytes. */
export function decodeBase64Chunks(chunks: readonly Buffer[]): Buffer | GrpcError {
  const decoder = new Base64Decoder();
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    const part = decoder.push(chunk);
    if (part instanceof GrpcError) return part;
    parts.push(part);
  }
  return decoder.end() ?? Buffer.concat(parts);
}
