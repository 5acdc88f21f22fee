import type { Interceptor, StreamRequest, Transport } from "@connectrpc/connect";
import { createGrpcWebTransport, type GrpcWebTransportOptions } from "../transport.js";
import { type WebSocketConstructor, webSocketCall } from "./websocket-call.js";

export interface WebSocketTransportOptions extends GrpcWebTransportOptions {
  /** The WebSocket class, instead of the global one (in Node 20, which has none: `ws`'s). */
  WebSocket?: WebSocketConstructor;
}

/**
 * `createGrpcWebTransport` with client- and bidi-streaming calls over a WebSocket each, in the
 * grpc-websockets protocol the proxy speaks: requests are sent as the caller's iterable yields them,
 * while the replies come. Unary and server-streaming calls stay on fetch. Deadlines, metadata,
 * signals, interceptors, compression and errors are as for the other calls; a caller that yields
 * requests faster than the network takes them is paused, not buffered for.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): Transport {
  const overSocket = webSocketCall(options.WebSocket, options.compression);
  // The innermost interceptor, so that the caller's see every call: it takes the calls fetch cannot carry.
  const streamingRequests: Interceptor = (overFetch) => (req) =>
    req.stream && req.method.methodKind !== "server_streaming"
      ? overSocket(req as StreamRequest)
      : overFetch(req);
  return createGrpcWebTransport({
    ...options,
    interceptors: [...(options.interceptors ?? []), streamingRequests],
  });
}
