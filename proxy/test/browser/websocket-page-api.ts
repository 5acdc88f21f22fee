// What a test asks of the WebSocket page and what it answers: plain data, so it crosses page.evaluate. Messages
// travel as base64 bytes: the test encodes and decodes them (interop-test-service.ts), the page only frames them.

/** One call the page makes with a gRPC-over-WebSocket client. */
export interface WebSocketCallRequest {
  /** The server's http:// or https:// origin (the client makes it ws:// or wss://), e.g. a proxy's URL. */
  host: string;
  /** Fully qualified, e.g. "grpc.testing.TestService". */
  service: string;
  method: string;
  requestStream: boolean;
  responseStream: boolean;
  /** The request messages, each as base64. */
  requests: string[];
  metadata: Record<string, string>;
  /**
   * "all" (default): send every request, then finish sending. "ping-pong": send the next request only once a reply
   * to the previous one came, then finish. "never-finish": send every request and never finish sending.
   */
  sending?: "all" | "ping-pong" | "never-finish";
  /** Cancel the call (the client closes its WebSocket) once this many replies came. */
  cancelAfterReplies?: number;
}

export interface WebSocketReply {
  base64: string;
  /** performance.now() in the page when the client handed the reply out. */
  at: number;
}

/** How the call ended, as the client exposes it to application code. */
export interface WebSocketCallOutcome {
  headers: Record<string, string[]>;
  replies: WebSocketReply[];
  /** The status the client reports; absent when the page cancelled the call (the client then reports nothing). */
  status?: { code: number; message: string };
  trailers: Record<string, string[]>;
}

/** What the page script adds to globalThis once it is ready. */
export interface WebSocketPageGlobals {
  websocketInterop: { call(request: WebSocketCallRequest): Promise<WebSocketCallOutcome> };
}
