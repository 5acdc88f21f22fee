import http2, { type ClientHttp2Stream, type OutgoingHttpHeaders } from "node:http2";

export interface SessionStates {
  readonly connecting: number;
  readonly connected: number;
  /** Retired or closing: they finish their streams but take no new ones. */
  readonly retiring: number;
}

/**
 * A backend as calls, health checks and metrics use it (gRPC would say a channel): one address
 * (`UpstreamPool`) or several balanced (`Balancer`).
 */
export interface UpstreamChannel {
  /** For logs, health and metrics: `host:port`, or the addresses it balances across. */
  readonly address: string;
  /** `:authority` of the calls sent to it. */
  readonly authority: string;
  /** True when a session is connected and takes new streams. */
  readonly connected: boolean;
  readonly sessionStates: SessionStates;
  readonly activeStreams: number;
  /** Resolves true once a session takes new streams (opening one if needed), false when none can. */
  connect(): Promise<boolean>;
  /**
   * Opens a stream. `previous` is this call's earlier stream that failed before it was sent
   * (`neverSent`): the new one goes to another address when there is one. Throws a GrpcError
   * when there is nowhere to send it.
   */
  request(headers: OutgoingHttpHeaders, previous?: ClientHttp2Stream): ClientHttp2Stream;
  /** Cancels a stream it opened that is still open (RST_STREAM CANCEL). */
  cancel(stream: ClientHttp2Stream): void;
  /** Stops new streams and closes every session once its streams end. */
  close(): Promise<void>;
}

/** What an upstream says about itself to the operator. */
export interface UpstreamLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * True when a stream that closed without a response never reached the backend, so sending the
 * call again cannot run it twice: the backend refused it (REFUSED_STREAM, also what a GOAWAY means
 * for streams past its last id), or it was still waiting for its connection (never given an id).
 */
export function neverSent(stream: ClientHttp2Stream): boolean {
  return stream.pending || stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
}
