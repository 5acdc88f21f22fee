import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { totalmem } from "node:os";
import type { RequestBodyBudget } from "../call/bridged-call.js";
import { limitCause, type Refusal } from "../call/outcome.js";
import { Code, GrpcError } from "../protocol/status.js";
import { optionValue } from "../settings/option-check.js";

/** The per-call limits of the plugin, as config keys name them; every one has a default and can be changed. */
export interface CallLimitOptions {
  /** Largest response message passed on to the browser, in bytes; default 4 MiB, as gRPC clients' own default. */
  readonly maxResponseMessageBytes?: number;
  /** The deadline of a call that sends no `grpc-timeout`, e.g. "30s" (still clamped by maxTimeout); default: none. */
  readonly defaultTimeout?: string;
  /** A call with no byte either way for this long ends with UNAVAILABLE; "0" turns it off. Default 5 minutes. */
  readonly streamIdleTimeout?: string;
  /** Calls in flight in this plugin at once; more are refused with RESOURCE_EXHAUSTED. Default 10000. */
  readonly maxConcurrentCalls?: number;
  /** Calls in flight on one client connection at once (HTTP/2 multiplexes); default 100. */
  readonly maxCallsPerConnection?: number;
  /**
   * Largest request header block, in bytes, counted as HTTP/2 does (name + value + 32 per field).
   * The plugin checks HTTP/2 requests; Node's parser checks HTTP/1.1 (`maxHeaderSize`, which
   * `buildServer` sets to the same value). Default 16 KiB, Node's own.
   */
  readonly maxHeaderBytes?: number;
  /**
   * Request body bytes all calls may hold at once; a call that would go past it is refused with
   * RESOURCE_EXHAUSTED before any of its body is held. Default: 1/8 of the memory the process may use.
   */
  readonly maxBufferedRequestBytes?: number;
}

/** RFC 9113 §6.5.2: a header field's size is its name and value lengths plus 32. */
const FIELD_OVERHEAD = 32;

export interface ResolvedCallLimits {
  readonly maxResponseMessageBytes: number;
  readonly defaultTimeoutMs: number | undefined;
  /** undefined when off. */
  readonly streamIdleTimeoutMs: number | undefined;
  readonly maxConcurrentCalls: number;
  readonly maxConcurrentCallsPerConnection: number;
  readonly maxHeaderBytes: number;
  readonly maxBufferedRequestBytes: number;
}

/** The default budget for buffered request bodies: this share of the memory the process may use. */
const BUFFERED_REQUEST_SHARE = 1 / 8;

/** The limits with their defaults; the plugin's options were checked by resolveOptions. */
export function resolveCallLimits(options: CallLimitOptions): ResolvedCallLimits {
  const streamIdleTimeoutMs = optionValue(options, "streamIdleTimeout");
  return {
    maxResponseMessageBytes: optionValue(options, "maxResponseMessageBytes") as number,
    defaultTimeoutMs: optionValue(options, "defaultTimeout"),
    streamIdleTimeoutMs: streamIdleTimeoutMs === 0 ? undefined : streamIdleTimeoutMs,
    maxConcurrentCalls: optionValue(options, "maxConcurrentCalls") as number,
    maxConcurrentCallsPerConnection: optionValue(options, "maxCallsPerConnection") as number,
    maxHeaderBytes: optionValue(options, "maxHeaderBytes") as number,
    maxBufferedRequestBytes:
      optionValue(options, "maxBufferedRequestBytes") ?? Math.floor(usableMemory() * BUFFERED_REQUEST_SHARE),
  };
}

/** A container's memory limit when the process has one (cgroups), else the machine's memory. */
function usableMemory(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < totalmem() ? constrained : totalmem();
}

/**
 * The request bytes held by every call of a plugin at once. A call reserves its message's size when
 * the 5-byte frame header declares it, before it holds any of it, and gives it back when it ends, so
 * a call that got its share never fails for want of memory and one that cannot get it is refused
 * before it costs anything.
 */
export class BodyBudget implements RequestBodyBudget {
  /** Set anew by a reload; calls already holding bytes keep them. */
  limit: number;
  #held = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes reserved now. */
  get held(): number {
    return this.#held;
  }

  reserve(bytes: number): boolean {
    if (this.#held + bytes > this.limit) return false;
    this.#held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#held -= bytes;
  }
}

/** The client connection a request came on: the HTTP/2 session, whose streams share it, or the socket. */
type Connection = object;

/**
 * Admits a call or refuses it with RESOURCE_EXHAUSTED: past the number of calls
 * in flight, in the whole plugin or on its client connection, or with an HTTP/2
 * header block past the limit. A call is counted from admission until its
 * response closes, however it ends.
 */
export class CallAdmission {
  #max = 0;
  #maxPerConnection = 0;
  #maxHeaderBytes = 0;
  readonly #perConnection = new WeakMap<Connection, number>();
  #active = 0;

  constructor(limits: ResolvedCallLimits) {
    this.setLimits(limits);
  }

  /** New limits, after a reload: the calls in flight still count against them. */
  setLimits(limits: ResolvedCallLimits): void {
    this.#max = limits.maxConcurrentCalls;
    this.#maxPerConnection = limits.maxConcurrentCallsPerConnection;
    this.#maxHeaderBytes = limits.maxHeaderBytes;
  }

  /** Calls in flight now. */
  get active(): number {
    return this.#active;
  }

  /** Counts the call of `req`, or says which limit it is past. */
  admit(req: IncomingMessage, res: ServerResponse): Refusal | undefined {
    if (req.httpVersionMajor === 2) {
      const bytes = headerBytes(req.rawHeaders);
      if (bytes > this.#maxHeaderBytes) {
        return {
          error: new GrpcError(
            Code.RESOURCE_EXHAUSTED,
            `request headers of ${bytes} bytes are larger than the limit of ${this.#maxHeaderBytes} bytes`,
          ),
          cause: limitCause("header_bytes"),
        };
      }
    }
    if (this.#active >= this.#max) {
      return {
        error: new GrpcError(
          Code.RESOURCE_EXHAUSTED,
          `the proxy is at its limit of ${this.#max} concurrent calls; retry later`,
        ),
        cause: limitCause("concurrent_calls"),
      };
    }
    const connection = connectionOf(req);
    const onConnection = this.#perConnection.get(connection) ?? 0;
    if (onConnection >= this.#maxPerConnection) {
      return {
        error: new GrpcError(
          Code.RESOURCE_EXHAUSTED,
          `this connection is at its limit of ${this.#maxPerConnection} concurrent calls`,
        ),
        cause: limitCause("calls_per_connection"),
      };
    }
    this.#active++;
    this.#perConnection.set(connection, onConnection + 1);
    // `on`: 'close' comes once, and a `once` wrapper would cost every open call more memory.
    res.on("close", () => this.#release(connection));
    return undefined;
  }

  #release(connection: Connection): void {
    this.#active--;
    const left = (this.#perConnection.get(connection) ?? 1) - 1;
    if (left === 0) this.#perConnection.delete(connection);
    else this.#perConnection.set(connection, left);
  }
}

/** `rawHeaders` is flat: name, value, name, value… */
function headerBytes(rawHeaders: readonly string[]): number {
  let bytes = 0;
  for (const field of rawHeaders) bytes += field.length;
  return bytes + (rawHeaders.length / 2) * FIELD_OVERHEAD;
}

function connectionOf(req: IncomingMessage): Connection {
  // HTTP/2 compat requests have a stream; its session is the connection.
  return (req as unknown as Partial<Http2ServerRequest>).stream?.session ?? req.socket;
}
