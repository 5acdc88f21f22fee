import type { IncomingHttpHeaders } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import type { CallCause, Refusal } from "../call/outcome.js";
import type { ServedRequest } from "../ops/served-request.js";
import { isForwardedMetadataName } from "../protocol/metadata.js";
import { Code, GrpcError } from "../protocol/status.js";

/** What an interceptor sees of a call before it is forwarded. */
export interface InterceptedCall {
  /** `/package.Service/Method` */
  readonly method: string;
  /** The request metadata that goes to the backend; edits are forwarded. */
  readonly metadata: RequestMetadata;
  /** The address of the client's connection (not the x-forwarded-for chain, which `metadata` has). */
  readonly clientAddress: string | undefined;
  /** The request's logger: lines carry its request id. */
  readonly log: FastifyBaseLogger;
}

/**
 * A hook that runs before a call is forwarded, like a gRPC server interceptor or
 * Envoy's ext_authz. It refuses the call by returning (or throwing) a GrpcError,
 * whose code and message the browser gets; it lets it through by returning
 * nothing, after editing `call.metadata` if it likes. Any other error it throws
 * refuses the call with UNKNOWN, logged: a broken hook never lets a call through.
 */
export type CallInterceptor = (
  call: InterceptedCall,
) => GrpcError | undefined | Promise<GrpcError | undefined>;

/** ASCII metadata values: visible characters and spaces (PROTOCOL-HTTP2.md ASCII-Value). */
const METADATA_VALUE = /^[\x20-\x7e]*$/;

/**
 * The metadata of one request, read from and written to its headers, so what an
 * interceptor sets is what the call forwards. Only names that go to the backend
 * can be set; `grpc-*` names belong to gRPC itself.
 */
export class RequestMetadata {
  readonly #headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
  }

  /** The value, values of a repeated key joined with ", "; undefined when absent. */
  get(name: string): string | undefined {
    const value = this.#headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : value;
  }

  set(name: string, value: string): void {
    const key = name.toLowerCase();
    if (!isForwardedMetadataName(key) || key.startsWith("grpc-")) {
      throw new TypeError(`"${name}" is not metadata an interceptor may set`);
    }
    if (!METADATA_VALUE.test(value)) {
      throw new TypeError(`metadata "${name}" must be printable ASCII (base64 for -bin keys)`);
    }
    this.#headers[key] = value;
  }

  delete(name: string): void {
    delete this.#headers[name.toLowerCase()];
  }

  /** Every key that goes to the backend, with its value. */
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#headers)) {
      const value = this.get(name);
      if (value !== undefined && isForwardedMetadataName(name)) yield [name, value];
    }
  }
}

/**
 * Runs the interceptors of one call in order; the first refusal wins, and names its interceptor. `headers` are the
 * call's request headers, the request's own unless the call has others (a WebSocket call's come from its first message).
 */
export type InterceptorChain = (
  request: ServedRequest,
  method: string,
  headers?: IncomingHttpHeaders,
) => Promise<Refusal | undefined>;

/** The interceptors as one step, or undefined when there are none: then calls pay nothing for them. */
export function interceptorChain(
  interceptors: readonly CallInterceptor[] = [],
): InterceptorChain | undefined {
  if (interceptors.length === 0) return undefined;
  const chain = [...interceptors];
  const causes = chain.map(interceptorCause);
  return async (request, method, headers = request.raw.headers) => {
    const call: InterceptedCall = {
      method,
      metadata: new RequestMetadata(headers),
      clientAddress: request.raw.socket.remoteAddress,
      log: request.log,
    };
    let i = 0;
    try {
      for (; i < chain.length; i++) {
        const error = await (chain[i] as CallInterceptor)(call);
        if (error) return { error, cause: causes[i] as CallCause };
      }
      return undefined;
    } catch (error) {
      const cause = causes[i] as CallCause;
      if (error instanceof GrpcError) return { error, cause };
      request.log.error({ err: error }, `a call interceptor failed on ${method}; the call is refused`);
      return {
        error: new GrpcError(Code.UNKNOWN, "a call interceptor failed"),
        // The access line says why, next to the call it ended; the browser is not told.
        cause: { ...cause, error: thrownMessage(error) },
      };
    }
  };
}

/** Longest account of an interceptor's failure in an access line. */
const THROWN_MESSAGE_LIMIT = 256;

/** What an interceptor threw, as one line: its message and those of its causes ("db down: ECONNREFUSED"). */
function thrownMessage(thrown: unknown): string {
  const messages: string[] = [];
  for (let at: unknown = thrown; at !== undefined && messages.length < 5; at = (at as Error).cause) {
    messages.push(at instanceof Error ? at.message : String(at));
    if (!(at instanceof Error)) break;
  }
  return messages.join(": ").slice(0, THROWN_MESSAGE_LIMIT);
}

/** An interceptor by its position from 1, and its function's name when it has one. */
function interceptorCause(interceptor: CallInterceptor, index: number): CallCause {
  const position = String(index + 1);
  return {
    kind: "interceptor",
    interceptor: interceptor.name ? `${position} (${interceptor.name})` : position,
  };
}
