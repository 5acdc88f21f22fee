import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { encodeGrpcMessage, type GrpcError } from "../protocol/status.js";

/** Response metadata as the browser gets it: names lower-case, values as sent. */
export type Metadata = Array<[string, string]>;

/**
 * The browser's half of a call, as the call drives it. `WebResponse` is the one for a gRPC-Web
 * request over HTTP/1.1 or HTTP/2, whose body the call reads whole; `WebSocketSide` streams its
 * request (`StreamingBrowserSide`). Its request bytes and its going away come back through the
 * `BrowserListener` it is given.
 */
export interface BrowserSide {
  /** True for a side whose request streams: then it is a `StreamingBrowserSide`. */
  readonly requestStreams?: false;
  /** Starts passing the request's events to `listener`. */
  listen(listener: BrowserListener): void;
  /** True once response headers went out: a status can then only follow the messages. */
  readonly headersSent: boolean;
  /** Response headers of a call whose messages and trailers follow. */
  sendHeaders(metadata: Metadata): void;
  /** Whole response frames; false when the browser is not keeping up (wait for `browserDrained`). */
  write(chunk: Buffer): boolean;
  /**
   * One message that arrived in parts, as `write` would take it joined. A side that can send the parts as they
   * are has this, so a large message held back until whole is not copied into one buffer; the call joins the
   * parts for a side without it.
   */
  writeParts?(parts: readonly Buffer[]): boolean;
  /** Ends the response with the trailers, after the messages. */
  finish(trailers: Metadata): void;
  /**
   * Ends the call with the status in the headers and no body (Trailers-Only). `closeConnection`:
   * the request body may still be arriving, and will not be read.
   */
  trailersOnly(metadata: Metadata, closeConnection: boolean): void;
}

/**
 * A browser side whose request is a stream of messages the call forwards as they arrive (client
 * and bidi streaming), frames already checked by its own protocol reader. The call pauses its
 * reading while the backend is not keeping up.
 */
export interface StreamingBrowserSide extends Omit<BrowserSide, "requestStreams"> {
  readonly requestStreams: true;
  pauseRequest(): void;
  resumeRequest(): void;
}

/** What the browser's side tells the call. */
export interface BrowserListener {
  requestData(chunk: Buffer): void;
  requestEnd(): void;
  /** The browser's request broke its protocol (a streaming side's reader refused it): the call ends with `error`. */
  requestFailed(error: GrpcError): void;
  /** The browser's response closed before the call ended it. */
  browserGone(): void;
  /** The browser caught up after `write` returned false. */
  browserDrained(): void;
}

/**
 * The backend's half of a call: one HTTP/2 stream at a time on the call's upstream
 * (`UpstreamStream`). Its events come back through the `UpstreamListener` given to `send`.
 */
export interface UpstreamSide {
  /** `:authority` of the call. */
  readonly authority: string;
  /** The backend address the last `send` went to; undefined before. */
  readonly address: URL | undefined;
  /**
   * Opens a stream with `headers`, sends `body` and half-closes; without a body the request stays
   * open for `write` and `endRequest`. Called again after a stream the backend never saw
   * (`neverSent`), it sends elsewhere when it can. Throws a GrpcError when there is nowhere to send
   * the call.
   */
  send(headers: OutgoingHttpHeaders, body: Buffer | undefined, listener: UpstreamListener): void;
  /** Request bytes on a stream sent without a body; false when the backend is not keeping up (wait for `upstreamDrained`). */
  write(chunk: Buffer): boolean;
  /** Half-closes a stream sent without a body (END_STREAM); the response keeps flowing. */
  endRequest(): void;
  /** Stops reading response DATA (the browser is not keeping up), and goes on again. */
  pause(): void;
  resume(): void;
  /** Cancels the stream if it is still open (RST_STREAM CANCEL). */
  cancel(): void;
  /** After `upstreamClosed`: true when the backend never saw the stream, so it may be sent again. */
  readonly neverSent: boolean;
  /** After `upstreamClosed` without a status: what went wrong, as the browser should read it. */
  failure(responded: boolean): GrpcError;
}

/** What the backend's side tells the call. */
export interface UpstreamListener {
  upstreamHeaders(headers: IncomingHttpHeaders, endStream: boolean): void;
  upstreamData(chunk: Buffer): void;
  upstreamTrailers(trailers: IncomingHttpHeaders): void;
  /** The backend caught up after `write` returned false. */
  upstreamDrained(): void;
  /** The stream closed: every ending is decided here, when trailers and reset code are both known. */
  upstreamClosed(): void;
}

/** A status the proxy generated, as metadata. */
export function statusMetadata(error: GrpcError): Metadata {
  return [
    ["grpc-status", String(error.code)],
    ["grpc-message", encodeGrpcMessage(error.message)],
  ];
}
