import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { Base64Decoder } from "../protocol/base64.js";
import { upstreamContentType, type WebContentType } from "../protocol/content-type.js";
import { FrameBoundaryTracker, RequestBodyReader } from "../protocol/frame.js";
import { responseMetadata, upstreamRequestHeaders } from "../protocol/metadata.js";
import {
  Code,
  codeFromHttpStatus,
  decodeGrpcMessage,
  GrpcError,
  messageFromNonGrpcReply,
} from "../protocol/status.js";
import { effectiveTimeout, encodeGrpcTimeout, parseGrpcTimeout } from "../protocol/timeout.js";
import type { CallSpan } from "../tracing/tracer.js";
import { IdleWatch, type IdleWatched } from "./idle-watch.js";
import {
  BACKEND,
  type CallCause,
  type CallOutcome,
  CLIENT_GONE,
  DEADLINE,
  describeCause,
  limitCause,
  MALFORMED,
  type Refusal,
  SHUTDOWN,
  UPSTREAM_FAILURE,
} from "./outcome.js";
import {
  type BrowserListener,
  type BrowserSide,
  type StreamingBrowserSide,
  statusMetadata,
  type UpstreamListener,
  type UpstreamSide,
} from "./ports.js";
import { StreamedRequest } from "./streamed-request.js";

/** How much of a non-gRPC upstream body (an HTML error page) becomes grpc-message. */
const NON_GRPC_BODY_LIMIT = 1024;
/** A backend's trailers after part of a message: the browser gets the whole messages and this. */
const MESSAGE_CUT_OFF = new GrpcError(
  Code.INTERNAL,
  "the backend ended its response in the middle of a message: the part of it was dropped",
);
/** A request body in several chunks smaller than this is joined: one write to the session costs less than such a copy. */
const JOINED_BODY_BYTES = 64 * 1024;
/** A stream the backend never saw is sent once more, never twice. */
const MAX_ATTEMPTS = 2;

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

/** The request bytes all calls may hold at once, shared by the calls of a plugin. */
export interface RequestBodyBudget {
  readonly limit: number;
  /** Takes `bytes` from the budget; false, taking nothing, when they do not fit. */
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

/** What crosses the proxy besides metadata: set once for the plugin, shared by its calls. */
export interface HeaderPolicy {
  /** Keep the client's forwarding headers (a proxy of the operator's is in front). */
  readonly trustForwarded: boolean;
  /** Let a backend's set-cookie through to the browser. */
  readonly passSetCookie: boolean;
}

/** Told once, when a call has ended. */
export interface CallObserver {
  callEnded(outcome: CallOutcome): void;
}

export interface CallRequest {
  /** The browser's request headers: metadata, grpc-timeout, grpc-encoding. */
  readonly headers: IncomingHttpHeaders;
  /** `/package.Service/Method`, without query string. */
  readonly path: string;
  readonly contentType: WebContentType;
  /** The address of the browser's connection, for x-forwarded-for. */
  readonly clientAddress: string | undefined;
  /** How the browser reached the proxy, for x-forwarded-proto. */
  readonly clientProtocol: "http" | "https";
  readonly limits: CallLimits;
  readonly headerPolicy: HeaderPolicy;
  /** What the request body is held against; none: no budget. */
  readonly bodyBudget?: RequestBodyBudget;
  /** The call interceptors' verdict: the call is forwarded once it resolves to undefined, refused with a refusal. */
  readonly interception?: Promise<Refusal | undefined>;
  readonly observer?: CallObserver;
  /** The call's trace span; none while traces are off, so an untraced call does nothing for them. */
  readonly span?: CallSpan | undefined;
}

/** Where a call is; each hook acts only in the states it belongs to. */
export type CallState =
  /** The request body is arriving; the interceptors may be deciding meanwhile. A streamed request waits here only for them. */
  | "reading"
  /** The body has ended; the interceptors have not decided yet. */
  | "intercepting"
  /** Sent to the backend; no response headers yet. */
  | "upstream"
  /** The backend's response headers went to the browser; its messages flow through. */
  | "streaming"
  /** The backend answered with something that is not gRPC (an HTML error page): its start becomes the message. */
  | "non_grpc"
  | "done";

/** How a call ends: every path goes through `end`. */
export type Ending =
  /** The backend's status in its trailers, after its messages. */
  | { readonly kind: "trailers"; readonly trailers: IncomingHttpHeaders }
  /** The backend's status in its response headers, with no message (Trailers-Only). */
  | { readonly kind: "trailers_only"; readonly headers: IncomingHttpHeaders }
  /** A status the proxy generated: after the whole messages passed on, never inside one. */
  | { readonly kind: "error"; readonly error: GrpcError; readonly cause: CallCause }
  /** The browser went away. */
  | { readonly kind: "client_gone" };

/** A non-gRPC reply's status and the start of its body. */
interface NonGrpcReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer[];
  bytes: number;
}

/**
 * One gRPC-Web call translated to one native gRPC call, driven by its two sides' hooks: the
 * browser's (`BrowserListener`) and the backend's (`UpstreamListener`). Over fetch the request body
 * is read whole first — a single message, checked frame by frame before it is buffered — so a
 * stream the backend never saw can be sent again and a bad body never reaches the backend. A
 * browser side whose request streams (a WebSocket) has it forwarded as it arrives
 * (`StreamedRequest`) once the interceptors let the call through. The response streams through
 * as whole frames: the chunks the backend sends pass on as they are, up to the end of the last
 * frame each completes; only the start of a message in progress waits.
 */
export class BridgedCall implements BrowserListener, UpstreamListener, IdleWatched {
  readonly #request: CallRequest;
  readonly #browser: BrowserSide | StreamingBrowserSide;
  readonly #upstream: UpstreamSide;
  /** Set when the browser side streams its request; there is no body reader then. */
  readonly #streamed: StreamedRequest | undefined;
  /** Until the request body has ended: an open call holds no reader. */
  #reader: RequestBodyReader | undefined;
  readonly #decoder: Base64Decoder | undefined;
  readonly #tracker: FrameBoundaryTracker;
  #state: CallState = "reading";
  /** Pending while the interceptors decide; undefined once they let the call through (or when there are none). */
  #interception: Promise<Refusal | undefined> | undefined;
  #deadline: number | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Set while the call is open and has an idle limit. */
  #idleWatch: IdleWatch | undefined;
  #activeTick = 0;
  /**
   * The whole request body, once read (the chunks it came in), until the backend responds: only a call it never
   * saw is sent again.
   */
  #body: readonly Buffer[] | undefined;
  /** The request body's bytes, for the outcome. */
  #bodyBytes = 0;
  /** Streams opened to the backend for this call. */
  #attempts = 0;
  #respondedAt: number | undefined;
  #trailers: IncomingHttpHeaders | undefined;
  /** In the non_grpc state. */
  #nonGrpc: NonGrpcReply | undefined;
  /** The backend's stream is paused until the browser drains. */
  #paused = false;
  #bytesOut = 0;
  /**
   * The start of the response message in progress, held back until it is whole: the browser only ever
   * gets whole messages, so a status can always follow them in a trailer frame.
   */
  #partial: Buffer[] = [];
  /** Request bytes taken from the body budget, given back at the end. */
  #reserved = 0;

  constructor(request: CallRequest, browser: BrowserSide | StreamingBrowserSide, upstream: UpstreamSide) {
    this.#request = request;
    this.#browser = browser;
    this.#upstream = upstream;
    this.#streamed = browser.requestStreams ? new StreamedRequest(browser, upstream) : undefined;
    const { headers, limits } = request;
    const encoding = headers["grpc-encoding"];
    this.#reader = this.#streamed
      ? undefined
      : new RequestBodyReader({
          maxMessageBytes: limits.maxMessageBytes,
          compressed: encoding !== undefined && encoding !== "identity",
        });
    this.#decoder = request.contentType.text ? new Base64Decoder() : undefined;
    this.#tracker = new FrameBoundaryTracker(limits.maxResponseMessageBytes);
  }

  get state(): CallState {
    return this.#state;
  }

  start(): void {
    const { headers, limits, interception } = this.#request;
    this.#browser.listen(this);
    const requested = parseGrpcTimeout(single(headers["grpc-timeout"]));
    if (requested instanceof GrpcError) {
      this.end({ kind: "error", error: requested, cause: MALFORMED });
      return;
    }
    const timeoutMs = effectiveTimeout(requested ?? limits.defaultTimeoutMs, limits.maxTimeoutMs);
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      // Passed already (grpc-timeout: 0n): the backend must never see a call nobody waits for.
      BridgedCall.#deadlinePassed(this, timeoutMs);
      return;
    }
    if (timeoutMs !== undefined) {
      this.#deadline = performance.now() + timeoutMs;
      this.#deadlineTimer = setTimeout(BridgedCall.#deadlinePassed, timeoutMs, this, timeoutMs);
    }
    if (limits.streamIdleTimeoutMs !== undefined) {
      const watch = IdleWatch.for(limits.streamIdleTimeoutMs);
      this.#idleWatch = watch;
      this.#activeTick = watch.tick;
      watch.add(this);
    }
    if (interception) {
      this.#interception = interception;
      void interception.then((refusal) => this.intercepted(refusal));
    } else if (this.#streamed) {
      this.#send();
    }
  }

  // ---- browser → proxy

  requestData(chunk: Buffer): void {
    if (this.#streamed) {
      if (this.#state === "done") return;
      this.#active();
      this.#streamed.push(chunk);
      return;
    }
    if (this.#state !== "reading") return;
    this.#active();
    const bytes = this.#decoder ? this.#decoder.push(chunk) : chunk;
    if (bytes instanceof GrpcError) {
      this.end({ kind: "error", error: bytes, cause: MALFORMED });
      return;
    }
    const error = (this.#reader as RequestBodyReader).push(bytes);
    if (error) this.end({ kind: "error", error, cause: requestBodyCause(error) });
    else if (this.#reserved === 0) this.#reserveBody();
  }

  /** Once the frame header declares the message's size: holds that much of the budget, or refuses the call. */
  #reserveBody(): void {
    const budget = this.#request.bodyBudget;
    const declared = (this.#reader as RequestBodyReader).declaredBytes;
    if (budget === undefined || declared === undefined) return;
    if (budget.reserve(declared)) {
      this.#reserved = declared;
      return;
    }
    const error = new GrpcError(
      Code.RESOURCE_EXHAUSTED,
      `the proxy holds its limit of ${budget.limit} bytes of request bodies; retry later`,
    );
    this.end({ kind: "error", error, cause: limitCause("request_body_budget") });
  }

  requestEnd(): void {
    if (this.#streamed) {
      if (this.#state !== "done") this.#streamed.end();
      return;
    }
    if (this.#state !== "reading") return;
    // Nothing more comes from the browser: a bad body is answered on a connection that can be kept.
    this.#state = "intercepting";
    const error = this.#decoder?.end();
    if (error) {
      this.end({ kind: "error", error, cause: MALFORMED });
      return;
    }
    const body = (this.#reader as RequestBodyReader).endParts();
    this.#reader = undefined;
    if (body instanceof GrpcError) {
      this.end({ kind: "error", error: body, cause: requestBodyCause(body) });
      return;
    }
    this.#body = body;
    for (const part of body) this.#bodyBytes += part.length;
    if (!this.#interception) this.#send();
  }

  requestFailed(error: GrpcError): void {
    if (this.#state !== "done") this.end({ kind: "error", error, cause: requestBodyCause(error) });
  }

  browserGone(): void {
    if (this.#state !== "done") this.end({ kind: "client_gone" });
  }

  browserDrained(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#upstream.resume();
  }

  /** The interceptors' verdict. */
  intercepted(refusal: Refusal | undefined): void {
    if (this.#state === "done") return;
    this.#interception = undefined;
    if (refusal) this.end({ kind: "error", error: refusal.error, cause: refusal.cause });
    else if (this.#state === "intercepting" || this.#streamed) this.#send();
  }

  // ---- proxy → backend

  #send(): void {
    const { headers, path, contentType, clientAddress, clientProtocol, headerPolicy } = this.#request;
    let timeout: string | undefined;
    if (this.#deadline !== undefined) timeout = encodeGrpcTimeout(this.#deadline - performance.now());
    const outgoing = upstreamRequestHeaders(headers, {
      path,
      authority: this.#upstream.authority,
      contentType: upstreamContentType(contentType),
      timeout,
      clientAddress,
      clientProtocol,
      trustForwarded: headerPolicy.trustForwarded,
      traceparent: this.#request.span?.traceparent,
    });
    this.#state = "upstream";
    try {
      this.#sendBody(outgoing);
    } catch (error) {
      // An upstream with no address says so; node:http2 checks header names and values before sending.
      this.end(
        error instanceof GrpcError
          ? { kind: "error", error, cause: UPSTREAM_FAILURE }
          : {
              kind: "error",
              error: new GrpcError(Code.INTERNAL, `cannot forward the request: ${(error as Error).message}`),
              cause: MALFORMED,
            },
      );
      return;
    }
    this.#attempts++;
    this.#streamed?.opened();
    this.#request.span?.sentTo(this.#upstream.address as URL);
  }

  /**
   * A body read whole goes in one `send`, or, when it is large and came in several chunks, as those chunks on
   * an open request: joining them would copy the message once more.
   */
  #sendBody(headers: OutgoingHttpHeaders): void {
    const upstream = this.#upstream;
    const body = this.#body;
    if (this.#streamed || body === undefined) {
      upstream.send(headers, undefined, this);
      return;
    }
    if (body.length <= 1 || this.#bodyBytes < JOINED_BODY_BYTES) {
      // An empty body (zero frames) is sent as such.
      const whole = body.length <= 1 ? (body[0] ?? Buffer.alloc(0)) : Buffer.concat(body, this.#bodyBytes);
      upstream.send(headers, whole, this);
      return;
    }
    upstream.send(headers, undefined, this);
    for (const part of body) upstream.write(part);
    upstream.endRequest();
  }

  // ---- backend → proxy → browser

  upstreamHeaders(headers: IncomingHttpHeaders, endStream: boolean): void {
    if (this.#state !== "upstream") return;
    this.#body = undefined;
    this.#respondedAt = performance.now();
    this.#request.span?.responseStarted();
    const hasStatus = headers["grpc-status"] !== undefined;
    const status = Number(headers[":status"]);
    const contentType = single(headers["content-type"]);
    if (!hasStatus && !(status === 200 && contentType?.startsWith("application/grpc") === true)) {
      this.#state = "non_grpc";
      this.#nonGrpc = { status, contentType, body: [], bytes: 0 };
      return;
    }
    if (endStream || hasStatus) {
      // A status in the headers ends the call: whatever the backend might still send is not wanted.
      if (!endStream) this.#upstream.cancel();
      this.end({ kind: "trailers_only", headers });
      return;
    }
    this.#state = "streaming";
    this.#browser.sendHeaders(responseMetadata(headers, this.#request.headerPolicy.passSetCookie));
  }

  upstreamData(chunk: Buffer): void {
    if (this.#state === "non_grpc") {
      const reply = this.#nonGrpc as NonGrpcReply;
      if (reply.bytes < NON_GRPC_BODY_LIMIT) {
        reply.body.push(chunk);
        reply.bytes += chunk.length;
      }
      return;
    }
    if (this.#state !== "streaming") return;
    this.#active();
    const error = this.#tracker.push(chunk);
    if (error) {
      this.#badResponseFrame(chunk, error);
      return;
    }
    const whole = this.#tracker.endOfLastFrame;
    if (whole === chunk.length && this.#partial.length === 0) {
      // The usual case: the chunk is whole messages, passed on as they are.
      this.#pass(chunk);
      return;
    }
    if (whole > 0) this.#passWhole(chunk, whole);
    if (whole < chunk.length) this.#partial.push(whole === 0 ? chunk : chunk.subarray(whole));
  }

  /**
   * Passes on `chunk` up to `end`, where a frame ends, after the held start of the message that the chunk
   * completes. That one message is joined into one write (a message trickling in must not become a write per
   * piece, each base64-padded in text mode); the whole frames after it go as they are, never copied.
   */
  #passWhole(chunk: Buffer, end: number): void {
    if (this.#partial.length === 0) {
      this.#pass(chunk.subarray(0, end));
      return;
    }
    const first = this.#tracker.endOfFirstFrame;
    const parts = this.#partial;
    parts.push(chunk.subarray(0, first));
    this.#partial = [];
    const browser = this.#browser;
    if (browser.writeParts) {
      for (const part of parts) this.#bytesOut += part.length;
      this.#wrote(browser.writeParts(parts));
    } else {
      this.#pass(Buffer.concat(parts));
    }
    if (end > first) this.#pass(chunk.subarray(first, end));
  }

  #pass(bytes: Buffer): void {
    this.#bytesOut += bytes.length;
    this.#wrote(this.#browser.write(bytes));
  }

  /** After a write: the backend's stream waits while the browser is not keeping up. */
  #wrote(keepingUp: boolean): void {
    if (!keepingUp && !this.#paused) {
      this.#paused = true;
      this.#upstream.pause();
    }
  }

  upstreamTrailers(trailers: IncomingHttpHeaders): void {
    this.#trailers = trailers;
  }

  upstreamDrained(): void {
    if (this.#state !== "done") this.#streamed?.drained();
  }

  upstreamClosed(): void {
    const state = this.#state;
    if (state !== "upstream" && state !== "streaming" && state !== "non_grpc") return;
    const trailers = this.#trailers;
    if (trailers?.["grpc-status"] !== undefined) {
      if (!this.#tracker.atBoundary) {
        this.end({ kind: "error", error: MESSAGE_CUT_OFF, cause: UPSTREAM_FAILURE });
        return;
      }
      // Complete trailers make a complete call, even if RST_STREAM(NO_ERROR) followed (early server closure).
      // After a non-gRPC head, nothing went to the browser yet: the status goes in its headers.
      this.end(
        state === "non_grpc" ? { kind: "trailers_only", headers: trailers } : { kind: "trailers", trailers },
      );
      return;
    }
    if (state === "non_grpc") {
      const { status, contentType, body } = this.#nonGrpc as NonGrpcReply;
      const message = messageFromNonGrpcReply(status, contentType, Buffer.concat(body), NON_GRPC_BODY_LIMIT);
      this.end({
        kind: "error",
        error: new GrpcError(codeFromHttpStatus(status), message),
        cause: UPSTREAM_FAILURE,
      });
      return;
    }
    if (
      state === "upstream" &&
      this.#attempts < MAX_ATTEMPTS &&
      this.#upstream.neverSent &&
      (this.#streamed?.resendable ?? true)
    ) {
      // The backend never saw this call (refused, past a GOAWAY, or its connection never came up):
      // safe to send again, to another address when the upstream has one.
      this.#send();
      return;
    }
    const failure = this.#upstream.failure(state === "streaming");
    this.end({
      kind: "error",
      // The browser gets the whole messages before it and a status: the backend went away, whatever its reset said.
      error: this.#tracker.atBoundary
        ? failure
        : new GrpcError(
            Code.UNAVAILABLE,
            `the backend went away in the middle of a message (${failure.message})`,
          ),
      cause: UPSTREAM_FAILURE,
    });
  }

  /** Ends the call at a bad frame in `chunk`, after passing on the whole frames before it where they can be. */
  #badResponseFrame(chunk: Buffer, error: GrpcError): void {
    const cause = responseFrameCause(error);
    const before = this.#tracker.bytesBeforeError;
    if (before === undefined) {
      this.end({ kind: "error", error, cause });
      return;
    }
    if (before > 0) this.#passWhole(chunk, before);
    this.end({ kind: "error", error, cause });
  }

  // ---- endings

  /** Ends the call now with `error`, as the proxy's own status (a draining proxy ends its last calls so). */
  abort(error: GrpcError): void {
    this.end({ kind: "error", error, cause: SHUTDOWN });
  }

  /** The one way a call ends: the backend is let go, the browser answered, the outcome reported. */
  end(ending: Ending): void {
    const state = this.#state;
    if (state === "done") return;
    this.#state = "done";
    clearTimeout(this.#deadlineTimer);
    this.#idleWatch?.delete(this);
    if (this.#reserved > 0) this.#request.bodyBudget?.release(this.#reserved);
    const browser = this.#browser;
    switch (ending.kind) {
      case "trailers":
        browser.finish(responseMetadata(ending.trailers, this.#request.headerPolicy.passSetCookie));
        this.#report(Number(ending.trailers["grpc-status"]), BACKEND, ending.trailers);
        return;
      case "trailers_only":
        browser.trailersOnly(
          responseMetadata(ending.headers, this.#request.headerPolicy.passSetCookie),
          false,
        );
        this.#report(Number(ending.headers["grpc-status"]), BACKEND, ending.headers);
        return;
      case "error": {
        if (this.#attempts > 0) this.#upstream.cancel();
        const status = statusMetadata(ending.error);
        // While the body is still arriving, the connection is closed after the answer: the rest is never read.
        // The start of a message in progress is dropped: only whole messages went out.
        this.#partial = [];
        if (!browser.headersSent) browser.trailersOnly(status, state === "reading");
        else browser.finish(status);
        this.#report(ending.error.code, ending.cause, ending.error.message);
        return;
      }
      case "client_gone":
        if (this.#attempts > 0) this.#upstream.cancel();
        this.#report(Code.CANCELLED, CLIENT_GONE);
        return;
    }
  }

  /** `message`: the proxy's own, or the backend's status in the headers it came in. */
  #report(code: number, cause: CallCause, message?: string | IncomingHttpHeaders): void {
    const forwarded = this.#attempts > 0;
    const bytesIn = forwarded ? (this.#streamed?.bytes ?? this.#bodyBytes) : 0;
    const { span, observer } = this.#request;
    span?.end({
      code,
      message: typeof message === "object" ? backendMessage(message) : message,
      bytesIn,
      bytesOut: this.#bytesOut,
      cause: describeCause(cause),
    });
    observer?.callEnded({
      code,
      cause,
      forwarded,
      bytesIn,
      bytesOut: this.#bytesOut,
      messagesOut: this.#tracker.frames,
      respondedAt: this.#respondedAt,
    });
  }

  static #deadlinePassed(call: BridgedCall, timeoutMs: number): void {
    call.#deadlineTimer = undefined;
    const error = new GrpcError(Code.DEADLINE_EXCEEDED, `deadline of ${timeoutMs} ms exceeded at the proxy`);
    call.end({ kind: "error", error, cause: DEADLINE });
  }

  // ---- the idle watch

  get activeTick(): number {
    return this.#activeTick;
  }

  /** A byte went either way. */
  #active(): void {
    if (this.#idleWatch) this.#activeTick = this.#idleWatch.tick;
  }

  idle(idleMs: number): void {
    const error = new GrpcError(
      Code.UNAVAILABLE,
      `no bytes either way for ${idleMs} ms: the proxy ended the call`,
    );
    this.end({ kind: "error", error, cause: limitCause("stream_idle") });
  }
}

/** The request body reader refuses an oversized message with RESOURCE_EXHAUSTED, and a bad body with any other code. */
function requestBodyCause(error: GrpcError): CallCause {
  return error.code === Code.RESOURCE_EXHAUSTED ? limitCause("request_message") : MALFORMED;
}

/** The response frame tracker refuses an oversized message with RESOURCE_EXHAUSTED, and a bad frame with any other code. */
function responseFrameCause(error: GrpcError): CallCause {
  return error.code === Code.RESOURCE_EXHAUSTED ? limitCause("response_message") : UPSTREAM_FAILURE;
}

/** The backend's grpc-message, decoded, for a span's status. */
function backendMessage(headers: IncomingHttpHeaders): string | undefined {
  const message = single(headers["grpc-message"]);
  return message === undefined ? undefined : decodeGrpcMessage(message);
}

/** Node types a custom header as a list when it came more than once; the first one counts. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
