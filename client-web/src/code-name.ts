// The canonical names from grpc/grpc doc/statuscodes.md, indexed by code. connect's own (in a
// ConnectError's message) are lower-case and spell CANCELLED "canceled"; logs and UIs want these.
const codeNames = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** The canonical gRPC name of a status code, e.g. "DEADLINE_EXCEEDED" for 4. */
export function codeName(code: number): string {
  return codeNames[code] ?? `CODE_${code}`;
}
