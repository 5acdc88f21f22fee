import type { IncomingMessage, ServerResponse } from "node:http";
import http2, { type ClientHttp2Stream, type Http2Session, type IncomingHttpHeaders } from "node:http2";
import { Base64Decoder } from "../protocol/base64.js";
import { upstreamContentType, type WebContentType } from "../protocol/content-type.js";
import { FrameBoundaryTracker, RequestBodyReader } from "../protocol/frame.js";
import { responseMetadata, upstreamRequestHeaders } from "../protocol/metadata.js";
import {
  Code,
  codeFromHttpStatus,
  codeFromRstCode,
  GrpcError,
  messageFromNonGrpcReply,
} from "../protocol/status.js";
import { effectiveTimeout, encodeGrpcTimeout, parseGrpcTimeout } from "../protocol/timeout.js";
import { neverSent, type UpstreamChannel } from "../upstream/channel.js";
import type { WebResponse } from "./web-response.js";

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, NGHTTP2_NO_ERROR } = http2.constants;
const END_STREAM = 0x1;
/** How much of a non-gRPC upstream body (an HTML error page) becomes grpc-message. */
const NON_GRPC_BODY_LIMIT = 1024;

export interface CallLimits {
  readonly maxMessageBytes: number;
  readonly maxResponseMessageBytes: number;
  /** Clamp for the client's grpc-timeout; undefined for none. */
  readonly maxTimeoutMs: number | undefined;
  /** The deadline of a call without grpc-timeout; undefined for none. */
  readonly defaultTimeoutMs: number | undefined;
  /** How long a call may go without a byte either way; undefined for ever. */
  readonly streamIdleTimeoutMs: number | undefined;
}

/** What a finished call reports, for logs and metrics. */
export interface CallOutcome {
  readonly code: number;
  /** True when the browser went away before the call ended. */
  readonly clientGone: boolean;
  /** True when the request reached the backend; false when the proxy refused it first. */
  readonly forwarded: boolean;
  /** Request bytes sent to the backend (gRPC frames, decoded in text mode). */
  readonly bytesIn: number;
  /** Response DATA bytes from the backend passed on to the browser (before base64 in text mode). */
  readonly bytesOut: number;
  /** Complete response messages passed on. */
  readonly messagesOut: number;
  /** `performance.now()` when the backend's response headers arrived, if they did. */
  readonly respondedAt: number | undefined;
}

export interface CallRequest {
  readonly req: IncomingMessage;
  /** `/package.Service/Method`, without query string. */
  readonly path: string;
  readonly contentType: WebContentType;
  /** How the browser reached the proxy, for x-forwarded-proto. */
  readonly clientProtocol: "http" | "https";
  readonly pool: UpstreamChannel;
  readonly limits: CallLimits;
  /** The call interceptors' verdict: the call is forwarded once it resolves to undefined, refused with an error. */
  readonly admission?: Promise<GrpcError | undefined>;
  readonly onDone?: (outcome: CallOutcome) => void;
}

/**
 * One gRPC-Web call translated to one native gRPC call. The request body is
 * read whole first — over fetch it is a single message, checked frame by frame
 * before it is buffered — so a refused stream can be retried and a bad body
 * never reaches the backend. The response streams through frame by frame.
 */
export class BridgedCall {
  readonly #call: CallRequest;
  readonly #web: WebResponse;
  readonly #res: ServerResponse;
  readonly #reader: RequestBodyReader;
  readonly #decoder: Base64Decoder | undefined;
  readonly #tracker: FrameBoundaryTracker;
  #deadline: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #admitted = true;
  #body: Buffer | undefined;
  #upstream: ClientHttp2Stream | undefined;
  #session: Http2Session | undefined;
  #retried = false;
  #respondedAt: number | undefined;
  #bytesOut = 0;
  #trailers: IncomingHttpHeaders | undefined;
  /** Set when the upstream answered with something that is not gRPC. */
  #nonGrpc: { status: number; contentType: string | undefined; body: Buffer[]; bytes: number } | undefined;
  #upstreamError: Error | undefined;
  #waitingForDrain = false;
  #done = false;

  constructor(call: CallRequest, web: WebResponse, res: ServerResponse) {
    this.#call = call;
    this.#web = web;
    this.#res = res;
    const { req, limits } = call;
    const encoding = req.headers["grpc-encoding"];
    this.#reader = new RequestBodyReader({
      maxMessageBytes: limits.maxMessageBytes,
      compressed: encoding !== undefined && encoding !== "identity",
    });
    this.#decoder = call.contentType.text ? new Base64Decoder() : undefined;
    this.#tracker = new FrameBoundaryTracker(limits.maxResponseMessageBytes);
  }

  start(): void {
    const { req, limits } = this.#call;
    this.#res.once("close", this.#onClientClose);
    const requested = parseGrpcTimeout(single(req.headers["grpc-timeout"]));
    if (requested instanceof GrpcError) {
      this.#fail(requested, true);
      return;
    }
    const timeoutMs = effectiveTimeout(requested ?? limits.defaultTimeoutMs, limits.maxTimeoutMs);
    if (timeoutMs !== undefined) {
      this.#deadline = performance.now() + timeoutMs;
      this.#timer = setTimeout(this.#onDeadline, timeoutMs, timeoutMs);
    }
    const idleMs = limits.streamIdleTimeoutMs;
    if (idleMs !== undefined) this.#idleTimer = setTimeout(this.#onIdle, idleMs, idleMs);
    const { admission } = this.#call;
    if (admission) {
      this.#admitted = false;
      admission.then(this.#onAdmission);
    }
    req.on("data", this.#onRequestData);
    req.once("end", this.#onRequestEnd);
  }

  // ---- browser → proxy

  readonly #onRequestData = (chunk: Buffer): void => {
    if (this.#done) return;
    this.#idleTimer?.refresh();
    const bytes = this.#decoder ? this.#decoder.push(chunk) : chunk;
    if (bytes instanceof GrpcError) {
      this.#fail(bytes, true);
      return;
    }
    const error = this.#reader.push(bytes);
    if (error) this.#fail(error, true);
  };

  readonly #onRequestEnd = (): void => {
    if (this.#done) return;
    const error = this.#decoder?.end();
    if (error) {
      this.#fail(error);
      return;
    }
    const body = this.#reader.end();
    if (body instanceof GrpcError) {
      this.#fail(body);
      return;
    }
    this.#body = body;
    if (this.#admitted) this.#openUpstream();
  };

  readonly #onAdmission = (refusal: GrpcError | undefined): void => {
    if (this.#done) return;
    if (refusal) {
      // Before the body's end, the connection is closed after the answer, so the rest is never read.
      this.#fail(refusal, this.#body === undefined);
      return;
    }
    this.#admitted = true;
    if (this.#body !== undefined) this.#openUpstream();
  };

  readonly #onClientClose = (): void => {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
    this.#cancelUpstream();
    this.#report(Code.CANCELLED, true);
  };

  readonly #onDeadline = (timeoutMs: number): void => {
    this.#timer = undefined;
    this.#fail(new GrpcError(Code.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded at the proxy`));
  };

  readonly #onIdle = (idleMs: number): void => {
    this.#idleTimer = undefined;
    this.#fail(
      new GrpcError(Code.UNAVAILABLE, `no bytes either way for ${idleMs} ms: the proxy ended the call`),
    );
  };

  // ---- proxy → backend

  #openUpstream(): void {
    const { req, path, contentType, clientProtocol, pool } = this.#call;
    let timeout: string | undefined;
    if (this.#deadline !== undefined) timeout = encodeGrpcTimeout(this.#deadline - performance.now());
    const headers = upstreamRequestHeaders(req.headers, {
      path,
      authority: pool.authority,
      contentType: upstreamContentType(contentType),
      timeout,
      clientAddress: req.socket.remoteAddress,
      clientProtocol,
    });
    let stream: ClientHttp2Stream;
    try {
      // On a retry, #upstream is the stream that failed: the pool sends this one elsewhere if it can.
      stream = pool.request(headers, this.#upstream);
    } catch (error) {
      // An upstream with no address says so; node:http2 validates header names and values synchronously.
      this.#fail(
        error instanceof GrpcError
          ? error
          : new GrpcError(Code.INTERNAL, `cannot forward the request: ${(error as Error).message}`),
      );
      return;
    }
    this.#upstream = stream;
    // Node detaches a stream from its session on close; keep it to tell a lost connection from a reset.
    this.#session = stream.session;
    stream.on("response", this.#onResponse);
    stream.on("data", this.#onData);
    stream.once("trailers", this.#onTrailers);
    stream.once("error", this.#onError);
    stream.once("close", this.#onClose);
    stream.end(this.#body);
  }

  // ---- backend → proxy → browser

  readonly #onResponse = (headers: IncomingHttpHeaders, flags: number): void => {
    if (this.#done) return;
    this.#respondedAt = performance.now();
    const status = Number(headers[HTTP2_HEADER_STATUS]);
    const contentType = single(headers[HTTP2_HEADER_CONTENT_TYPE]);
    const isGrpc = status === 200 && contentType?.startsWith("application/grpc") === true;
    if (!isGrpc && headers["grpc-status"] === undefined) {
      this.#nonGrpc = { status, contentType, body: [], bytes: 0 };
      return;
    }
    if (flags & END_STREAM || headers["grpc-status"] !== undefined) {
      this.#done = true;
      this.#cleanup();
      if (!(flags & END_STREAM)) this.#cancelUpstream();
      this.#web.trailersOnly(responseMetadata(headers));
      this.#report(Number(headers["grpc-status"]));
      return;
    }
    this.#web.sendHeaders(responseMetadata(headers));
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#done) return;
    const nonGrpc = this.#nonGrpc;
    if (nonGrpc) {
      if (nonGrpc.bytes < NON_GRPC_BODY_LIMIT) {
        nonGrpc.body.push(chunk);
        nonGrpc.bytes += chunk.length;
      }
      return;
    }
    this.#idleTimer?.refresh();
    const error = this.#tracker.push(chunk);
    if (error) {
      this.#failInside(chunk, error);
      return;
    }
    this.#bytesOut += chunk.length;
    if (!this.#web.write(chunk) && !this.#waitingForDrain) {
      this.#waitingForDrain = true;
      this.#upstream?.pause();
      this.#res.once("drain", this.#onDrain);
    }
  };

  readonly #onDrain = (): void => {
    this.#waitingForDrain = false;
    this.#upstream?.resume();
  };

  readonly #onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.#trailers = trailers;
  };

  readonly #onError = (error: Error): void => {
    this.#upstreamError = error;
  };

  /**
   * Every ending is decided here, not on 'end': Node ends the readable side for a
   * reset too, and only at 'close' are the trailers and the RST_STREAM code both known.
   */
  readonly #onClose = (): void => {
    const stream = this.#upstream;
    if (this.#done || !stream) return;
    const trailers = this.#trailers;
    if (trailers?.["grpc-status"] !== undefined) {
      // Complete trailers make a complete call, even if RST_STREAM(NO_ERROR) followed (early server closure).
      this.#done = true;
      this.#cleanup();
      this.#web.finish(responseMetadata(trailers));
      this.#report(Number(trailers["grpc-status"]));
      return;
    }
    const nonGrpc = this.#nonGrpc;
    if (nonGrpc) {
      const body = Buffer.concat(nonGrpc.body);
      const message = messageFromNonGrpcReply(nonGrpc.status, nonGrpc.contentType, body, NON_GRPC_BODY_LIMIT);
      this.#fail(new GrpcError(codeFromHttpStatus(nonGrpc.status), message));
      return;
    }
    if (neverSent(stream) && this.#respondedAt === undefined && !this.#retried) {
      // The backend never saw this call (refused, past a GOAWAY, or its connection never came up):
      // safe to send again, once, to another address when the upstream has one.
      this.#retried = true;
      this.#openUpstream();
      return;
    }
    this.#fail(this.#closeError(stream));
  };

  #closeError(stream: ClientHttp2Stream): GrpcError {
    // The messages reach browsers: they say what went wrong, never where (the access log names the upstream).
    const error = this.#upstreamError as NodeJS.ErrnoException | undefined;
    if (error && error.code !== "ERR_HTTP2_STREAM_ERROR") {
      // A stream cancelled because its session failed carries the session's error as its cause.
      const cause = (error.cause as NodeJS.ErrnoException | undefined) ?? error;
      return new GrpcError(Code.UNAVAILABLE, `upstream unavailable: ${cause.code ?? cause.message}`);
    }
    if (this.#session?.destroyed) {
      // Node closes the streams of a lost connection as if cancelled; the call was not cancelled.
      return new GrpcError(Code.UNAVAILABLE, "upstream unavailable: connection lost");
    }
    const rstCode = stream.rstCode ?? NGHTTP2_NO_ERROR;
    if (rstCode === NGHTTP2_NO_ERROR && this.#respondedAt !== undefined) {
      return new GrpcError(Code.UNKNOWN, "upstream ended the call without a grpc-status");
    }
    return new GrpcError(
      codeFromRstCode(rstCode),
      `upstream reset the stream (HTTP/2 error code ${rstCode})`,
    );
  }

  // ---- endings

  /** Ends the call now with `error`, as the proxy's own status (a draining proxy ends its last calls so). */
  abort(error: GrpcError): void {
    this.#fail(error);
  }

  /**
   * Ends the call with a status the proxy generated. `beforeBodyEnd` marks an
   * answer sent while the browser may still be uploading: that connection is
   * closed after the answer, so the rest of its body is never read.
   */
  #fail(error: GrpcError, beforeBodyEnd = false, atFrameBoundary = this.#tracker.atBoundary): void {
    if (this.#done) return;
    this.#done = true;
    this.#cleanup();
    this.#cancelUpstream();
    this.#web.fail(error, atFrameBoundary, beforeBodyEnd);
    this.#report(error.code);
  }

  /** Ends the call at a bad frame in `chunk`, after passing on the whole frames before it where they can be. */
  #failInside(chunk: Buffer, error: GrpcError): void {
    const before = this.#tracker.bytesBeforeError;
    if (before === undefined) {
      this.#fail(error);
      return;
    }
    if (before > 0) {
      this.#bytesOut += before;
      this.#web.write(chunk.subarray(0, before));
    }
    this.#fail(error, false, true);
  }

  #cancelUpstream(): void {
    if (this.#upstream) this.#call.pool.cancel(this.#upstream);
  }

  #cleanup(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#timer = undefined;
    this.#idleTimer = undefined;
  }

  #report(code: number, clientGone = false): void {
    this.#call.onDone?.({
      code,
      clientGone,
      forwarded: this.#upstream !== undefined,
      bytesIn: this.#upstream === undefined ? 0 : (this.#body?.length ?? 0),
      bytesOut: this.#bytesOut,
      messagesOut: this.#tracker.frames,
      respondedAt: this.#respondedAt,
    });
  }
}

/** Node types a custom header as a list when it came more than once; the first one counts. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
