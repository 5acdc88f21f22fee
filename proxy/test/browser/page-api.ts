// What the test asks of a page and what the page answers: plain data, so it crosses page.evaluate.
// Both page scripts answer in the same shape, so one set of assertions covers every client.

export type GreeterMethod = "SayHello" | "SayHelloStreamReply";

/** One call the page makes through the proxy. */
export interface CallRequest {
  proxyUrl: string;
  /** The client's wire format: "text" and "binary" for grpc-web, "binary" and "json" for connect-web. */
  format: string;
  method: GreeterMethod;
  name: string;
  metadata: Record<string, string>;
  timeoutMs?: number;
}

export interface Reply {
  message: string;
  /** performance.now() in the page when the client handed the reply out. */
  at: number;
}

/** How the call ended, as the client exposes it to application code. */
export interface CallOutcome {
  replies: Reply[];
  /** Response headers the page could read (CORS hides the ones not exposed). */
  headers: Record<string, string>;
  /** The trailers of a successful call, or the metadata the client attaches to its error. */
  trailers: Record<string, string>;
  error?: { code: number; message: string };
}

/** What each page script adds to globalThis once it is ready. */
export interface PageGlobals {
  interop: { call(request: CallRequest): Promise<CallOutcome> };
}
