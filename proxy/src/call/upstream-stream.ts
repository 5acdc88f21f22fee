import http2, {
  type ClientHttp2Stream,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import { Code, codeFromRstCode, GrpcError } from "../protocol/status.js";
import type { Upstream } from "../upstream/upstream.js";
import type { UpstreamListener, UpstreamSide } from "./ports.js";

const { NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;
const END_STREAM = 0x1;
/** The call a stream belongs to, so that one set of listener functions serves every call. */
const LISTENER = Symbol("UpstreamListener");
/** The error the stream failed with, if it did. */
const ERROR = Symbol("error");

type ListenedStream = ClientHttp2Stream & {
  [LISTENER]: UpstreamListener;
  [ERROR]?: NodeJS.ErrnoException;
};

/** A call's side of its upstream: the HTTP/2 stream of its current attempt, on the upstream's sessions. */
export class UpstreamStream implements UpstreamSide {
  readonly #upstream: Upstream;
  #stream: ListenedStream | undefined;
  /** Node detaches a stream from its session on close; kept to tell a lost connection from a reset. */
  #session: Http2Session | undefined;

  constructor(upstream: Upstream) {
    this.#upstream = upstream;
  }

  get authority(): string {
    return this.#upstream.authority;
  }

  get address(): URL | undefined {
    return this.#stream && this.#upstream.addressOf(this.#stream);
  }

  /**
   * True when the stream closed without a response and the backend never saw it, so sending the call
   * again cannot run it twice: the backend refused it (REFUSED_STREAM, also what a GOAWAY means for
   * streams past its last id), or it was still waiting for its connection (never given an id).
   */
  get neverSent(): boolean {
    const stream = this.#stream;
    return stream !== undefined && (stream.pending || stream.rstCode === NGHTTP2_REFUSED_STREAM);
  }

  send(headers: OutgoingHttpHeaders, body: Buffer | undefined, listener: UpstreamListener): void {
    // On a retry, #stream is the stream that failed: the upstream sends this one elsewhere if it can.
    const stream = this.#upstream.request(headers, this.#stream) as ListenedStream;
    this.#stream = stream;
    this.#session = stream.session;
    stream[LISTENER] = listener;
    // `on`, never `once`, though each of these comes once: a `once` costs every open call a wrapper
    // function and its state, and the stream and its listeners go together.
    stream.on("response", onResponse);
    stream.on("data", onData);
    stream.on("trailers", onTrailers);
    stream.on("error", onError);
    stream.on("close", onClose);
    if (body !== undefined) {
      stream.end(body);
      return;
    }
    stream.on("drain", onDrain);
    // A backend may end the call before the browser finished sending (bidi): the stream closes only
    // once both halves have, and every ending waits for 'close'.
    stream.on("end", endRequest);
  }

  write(chunk: Buffer): boolean {
    return (this.#stream as ListenedStream).write(chunk);
  }

  endRequest(): void {
    (this.#stream as ListenedStream).end();
  }

  pause(): void {
    this.#stream?.pause();
  }

  resume(): void {
    this.#stream?.resume();
  }

  cancel(): void {
    if (this.#stream) this.#upstream.cancel(this.#stream);
  }

  failure(responded: boolean): GrpcError {
    // The messages reach browsers: they say what went wrong, never where (the access log names the upstream).
    const error = this.#stream?.[ERROR];
    if (error && error.code !== "ERR_HTTP2_STREAM_ERROR") {
      // A stream cancelled because its session failed carries the session's error as its cause.
      const cause = (error.cause as NodeJS.ErrnoException | undefined) ?? error;
      return new GrpcError(Code.UNAVAILABLE, `upstream unavailable: ${cause.code ?? cause.message}`);
    }
    if (this.#session?.destroyed) {
      // Node closes the streams of a lost connection as if cancelled; the call was not cancelled.
      return new GrpcError(Code.UNAVAILABLE, "upstream unavailable: connection lost");
    }
    const rstCode = this.#stream?.rstCode ?? NGHTTP2_NO_ERROR;
    if (rstCode === NGHTTP2_NO_ERROR && responded) {
      return new GrpcError(Code.UNKNOWN, "upstream ended the call without a grpc-status");
    }
    return new GrpcError(
      codeFromRstCode(rstCode),
      `upstream reset the stream (HTTP/2 error code ${rstCode})`,
    );
  }
}

function onResponse(this: ListenedStream, headers: IncomingHttpHeaders, flags: number): void {
  this[LISTENER].upstreamHeaders(headers, (flags & END_STREAM) !== 0);
}

function onData(this: ListenedStream, chunk: Buffer): void {
  this[LISTENER].upstreamData(chunk);
}

function onTrailers(this: ListenedStream, trailers: IncomingHttpHeaders): void {
  this[LISTENER].upstreamTrailers(trailers);
}

function onDrain(this: ListenedStream): void {
  this[LISTENER].upstreamDrained();
}

function endRequest(this: ListenedStream): void {
  if (!this.writableEnded && !this.destroyed) this.end();
}

function onError(this: ListenedStream, error: Error): void {
  this[ERROR] = error;
}

/** Every ending is decided at 'close', not 'end': Node ends the readable side for a reset too. */
function onClose(this: ListenedStream): void {
  this[LISTENER].upstreamClosed();
}
