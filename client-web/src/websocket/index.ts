export { createWebSocketTransport, type WebSocketTransportOptions } from "./transport.js";
export type { WebSocketConstructor, WebSocketLike } from "./websocket-call.js";
