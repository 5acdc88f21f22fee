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

/**
 * The error for a response that is no whole gRPC-Web reply, `what` saying why: its HTTP status's gRPC
 * code (UNKNOWN for a 200), its headers as metadata, and the response as its cause, so that
 * `explainErrors` can say more.
 */
export function httpError(response: Response, what: string): ConnectError {
  const { status, headers } = response;
  return new ConnectError(
    `HTTP ${status} ${headers.get(headerContentType) ?? ""}: ${what}`,
    codeOfHttpStatus[status] ?? (2 satisfies Code.Unknown),
    headers,
    undefined,
    response,
  );
}
