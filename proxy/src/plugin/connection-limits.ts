import type { Socket } from "node:net";
import { Code, encodeGrpcMessage } from "../protocol/status.js";

/** Limits of the Node server itself, against clients that hold connections open (slowloris). */
export interface ConnectionLimitOptions {
  /** All request headers must arrive within this, e.g. "10s" (the default). HTTP/1.1 only (HTTP/2 sends them in one frame). */
  readonly headersTimeout?: string;
  /**
   * The whole request, headers and body, must arrive within this; default "60s". The response is never timed:
   * server streams run as long as the call does. HTTP/1.1 only; on HTTP/2 the stream idle timeout and the
   * per-connection call limit bound a slow client.
   */
  readonly requestTimeout?: string;
}

/** The same, checked, with the header limit that Node's HTTP/1.1 parser enforces. */
export interface ConnectionLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

/** Node checks its connections' timeouts this often at most (its default, 30 s, would make them that coarse). */
const MAX_CHECK_INTERVAL_MS = 1_000;

/** The HTTP/1.1 side of a Node server (http.Server, or an HTTP/2 server that allows HTTP/1.1). */
interface Http1Limits {
  maxHeaderSize?: number;
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval?: number;
}

/** Sets the server's HTTP/1.1 limits; call before `listen`, when Node starts checking them. */
export function applyConnectionLimits(server: object, limits: ConnectionLimits): void {
  const http1 = server as Http1Limits;
  http1.maxHeaderSize = limits.maxHeaderBytes;
  // Node requires headersTimeout ≤ requestTimeout.
  http1.requestTimeout = limits.requestTimeoutMs;
  http1.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  http1.connectionsCheckingInterval = Math.min(MAX_CHECK_INTERVAL_MS, Math.ceil(http1.headersTimeout / 2));
}

const ANSWERS: Record<string, { status: string; code: number; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: "431 Request Header Fields Too Large",
    code: Code.RESOURCE_EXHAUSTED,
    message: "request headers are larger than the proxy's limit",
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: "408 Request Timeout",
    code: Code.DEADLINE_EXCEEDED,
    message: "the request did not arrive in time",
  },
};
const MALFORMED = { status: "400 Bad Request", code: Code.INTERNAL, message: "malformed HTTP request" };

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP/1.1 parser refused before any
 * route ran, answered with its HTTP status and, for gRPC-Web clients that read
 * them, grpc-status and grpc-message headers; then the connection closes.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const response = socket as Socket & { _httpMessage?: { headersSent?: boolean } };
  if (error.code === "ECONNRESET" || !socket.writable || response._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const answer = ANSWERS[error.code ?? ""] ?? MALFORMED;
  socket.end(
    `HTTP/1.1 ${answer.status}\r\ncontent-type: application/grpc-web+proto\r\n` +
      `grpc-status: ${answer.code}\r\ngrpc-message: ${encodeGrpcMessage(answer.message)}\r\n` +
      "content-length: 0\r\nconnection: close\r\n\r\n",
  );
}
