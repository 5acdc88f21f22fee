import { decodeBinaryHeader } from "@connectrpc/connect";

/**
 * The values of a binary ("-bin") key in response headers or trailers, decoded. Repeated keys arrive
 * joined by commas, which connect's `decodeBinaryHeader` alone would refuse; padded and unpadded
 * base64 are both accepted. To send one, set `encodeBinaryHeader(bytes)` from connect.
 */
export function readBinaryMetadata(headers: Headers, key: string): Uint8Array[] {
  const joined = headers.get(key);
  if (joined === null) return [];
  return joined.split(",").map((value) => decodeBinaryHeader(value.trim()));
}
