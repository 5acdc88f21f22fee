import type { IncomingHttpHeaders } from "node:http";

/** How the browser's call reached the proxy. */
export type CallTransport = "http/1.1" | "h2" | "websocket";

/** What a call's span is started from. */
export interface TracedCall {
  /** `/package.Service/Method` */
  readonly path: string;
  /** The browser's request headers: its `traceparent` and `tracestate`, if any, make the span's parent. */
  readonly headers: IncomingHttpHeaders;
  readonly transport: CallTransport;
  /** The upstream's name; undefined for a call the proxy refuses before routing it. */
  readonly upstream: string | undefined;
}

/** How a call ended, as its span records it. */
export interface SpanEnding {
  /** The gRPC status the browser got. */
  readonly code: number;
  /** Its grpc-message, when the proxy has one (for an error status). */
  readonly message?: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Why the call ended so, in the words the logs and metrics use (a limit, the client gone...). */
  readonly cause?: string;
}

/** One call's span, from the call's start to its end. */
export interface CallSpan {
  /** This span's W3C trace context, for the request upstream: it replaces the browser's `traceparent`. */
  readonly traceparent: string;
  /** The backend address (`http://host:port`) the call was sent to; again after a retry that went elsewhere. */
  sentTo(address: URL): void;
  /** The backend's response began (its headers reached the proxy). */
  responseStarted(): void;
  /** Ends the span: an error status for any code but OK. Once. */
  end(ending: SpanEnding): void;
}

/** A span per call, exported by OTLP; there is none when traces are off, so an untraced call pays nothing. */
export interface CallTracer {
  startCall(call: TracedCall): CallSpan;
  /** Sends the spans not yet exported, then stops. */
  shutdown(): Promise<void>;
}

/** Where OpenTelemetry's own warnings go (an export that failed, a bad sampler): a pino logger fits. */
export interface TracingLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
