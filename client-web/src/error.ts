import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";

// The canonical names from grpc/grpc doc/statuscodes.md, indexed by code.
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

/** One google.protobuf.Any from grpc-status-details-bin: the message type name and its bytes. */
export interface ErrorDetail {
  readonly type: string;
  readonly value: Uint8Array;
}

/** Response headers and trailers of the attempt that failed; empty when none arrived. */
export interface ResponseMetadata {
  headers?: Headers;
  trailers?: Headers;
}

/** What a GrpcWebError carries besides its code and message; every field defaults to empty. */
export interface GrpcWebErrorInit {
  metadata?: Headers;
  headers?: Headers;
  trailers?: Headers;
  details?: readonly ErrorDetail[];
  cause?: unknown;
}

/** The one error every call rejects with. */
export class GrpcWebError extends Error {
  override readonly name = "GrpcWebError";
  /** The code's canonical name, e.g. "UNAVAILABLE". */
  readonly codeName: string;
  /** Response headers and trailers merged, as the server (or an interceptor) set them. */
  readonly metadata: Headers;
  /** Response headers; for a trailers-only response, the same fields as `trailers`. */
  readonly headers: Headers;
  /** Response trailers. */
  readonly trailers: Headers;
  /** The entries of grpc-status-details-bin (a google.rpc.Status), still packed; see `findDetails`. */
  readonly details: readonly ErrorDetail[];

  constructor(
    /** The numeric gRPC status code (see `Code`). */
    readonly code: number,
    /** The status message as the server sent it (grpc-message), without the code. */
    readonly rawMessage: string,
    init: GrpcWebErrorInit = {},
  ) {
    super(`${codeName(code)}: ${rawMessage}`, { cause: init.cause });
    this.codeName = codeName(code);
    this.metadata = init.metadata ?? new Headers();
    this.headers = init.headers ?? new Headers();
    this.trailers = init.trailers ?? new Headers();
    this.details = init.details ?? [];
  }

  /** The details of the given message type, decoded. */
  findDetails<Desc extends DescMessage>(schema: Desc): MessageShape<Desc>[] {
    return this.details.filter((d) => d.type === schema.typeName).map((d) => fromBinary(schema, d.value));
  }
}

/** Turns whatever a call failed with into a GrpcWebError, keeping the response metadata it saw. */
export function toGrpcWebError(reason: unknown, response: ResponseMetadata): GrpcWebError {
  if (reason instanceof GrpcWebError) return reason;
  const error = ConnectError.from(reason);
  return new GrpcWebError(error.code, error.rawMessage, {
    ...response,
    metadata: error.metadata,
    details: error.details.filter((d): d is ErrorDetail => "type" in d),
    cause: reason,
  });
}
