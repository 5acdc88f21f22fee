import { Code, ConnectError, decodeBinaryHeader, encodeBinaryHeader } from "@connectrpc/connect";

/** Request metadata. Bytes are allowed only under keys ending in "-bin", as gRPC requires. */
export type Metadata = Readonly<Record<string, string | Uint8Array>>;

/** Sets each entry on the request headers (later entries win), base64-encoding bytes without padding. */
export function setMetadata(headers: Headers, metadata: Metadata | undefined): Headers {
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (typeof value === "string") {
      headers.set(key, value);
    } else if (key.toLowerCase().endsWith("-bin")) {
      headers.set(key, encodeBinaryHeader(value));
    } else {
      throw new ConnectError(
        `metadata "${key}" has a binary value but no "-bin" suffix`,
        Code.InvalidArgument,
      );
    }
  }
  return headers;
}

/**
 * The values of a binary ("-bin") key in response headers or trailers, decoded. Repeated keys arrive
 * joined by commas; padded and unpadded base64 are both accepted.
 */
export function readBinaryMetadata(headers: Headers, key: string): Uint8Array[] {
  const joined = headers.get(key);
  if (joined === null) return [];
  return joined.split(",").map((value) => decodeBinaryHeader(value.trim()));
}
