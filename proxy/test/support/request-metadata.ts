// Request metadata as the test backends see it, alike for every backend library.

/** Metadata keys to values; `-bin` values are the decoded bytes. */
export type RequestMetadata = Record<string, string | Buffer>;

// Transport headers that grpc-js and grpcio hide from handlers; connect-node shows them, so drop them
// there too. grpc-timeout is kept where a library shows it (see Observation.timeoutMs for the rest).
const TRANSPORT_HEADERS = new Set([
  "te",
  "content-type",
  "grpc-encoding",
  "grpc-accept-encoding",
  "accept-encoding",
]);

/** Builds RequestMetadata from the key/value pairs a backend library hands its handlers. */
export function requestMetadata(entries: Iterable<readonly [string, string | Buffer]>): RequestMetadata {
  const metadata: RequestMetadata = {};
  for (const [key, value] of entries) {
    if (key.startsWith(":") || TRANSPORT_HEADERS.has(key) || key in metadata) continue;
    metadata[key] = key.endsWith("-bin") && typeof value === "string" ? Buffer.from(value, "base64") : value;
  }
  return metadata;
}

/** The metadata as strings for observations: `-bin` values as padded base64, whatever came on the wire. */
export function printableMetadata(metadata: RequestMetadata): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metadata).map(([key, value]) => [
      key,
      typeof value === "string" ? value : value.toString("base64"),
    ]),
  );
}
