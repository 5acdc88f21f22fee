import { type Code, ConnectError } from "@connectrpc/connect";
import { headerContentType, headerStatus } from "./headers.js";

type ResponseHead = Pick<Response, "status" | "headers">;

// The gRPC code of an HTTP status that came without grpc-status (grpc/grpc doc/http-grpc-status-mapping.md).
// Codes are written as numbers in this client (elsewhere as `13 satisfies Code.Internal`, which the compiler
// checks): connect's Code is a runtime enum, and a bundle carries `Code.Internal` as a property read.
const codeOfHttpStatus: Record<number, Code> = {
  400: 13, // INTERNAL
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 12, // UNIMPLEMENTED
  429: 14, // UNAVAILABLE
  502: 14,
  503: 14,
  504: 14,
};

/**
 * Whether the response can carry a gRPC-Web reply, judged from its head alone: a grpc-status header (a
 * trailers-only response) always wins, as http-grpc-status-mapping says; else HTTP 200 in gRPC-Web.
 */
export function isGrpcWebHead({ status, headers }: ResponseHead): boolean {
  return (
    headers.has(headerStatus) ||
    (status === 200 && /^application\/grpc-web(\+proto)?($|;)/i.test(headers.get(headerContentType) ?? ""))
  );
}

// The two errors below carry the response as their cause, so that `explainErrors` can say more.

/** The error for a response that cannot carry a reply: its HTTP status's gRPC code, its headers as metadata. */
export function notGrpcWebError(response: Response): ConnectError {
  const { status, headers } = response;
  return new ConnectError(
    `HTTP ${status} ${headers.get(headerContentType) ?? ""}: not gRPC-Web`,
    codeOfHttpStatus[status] ?? (2 satisfies Code.Unknown),
    headers,
    undefined,
    response,
  );
}

/** The error for a response that ended without grpc-status in its headers or a trailer frame. */
export function missingStatusError(response: Response): ConnectError {
  return new ConnectError(
    `HTTP ${response.status} without grpc-status`,
    2 satisfies Code.Unknown,
    response.headers,
    undefined,
    response,
  );
}
