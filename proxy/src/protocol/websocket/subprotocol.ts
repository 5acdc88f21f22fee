/** The WebSocket subprotocol of improbable-eng's gRPC-Web client (`grpc.WebsocketTransport()`) and grpcwebproxy. */
export const GRPC_WEBSOCKETS = "grpc-websockets";

/**
 * The subprotocol to answer an upgrade with: the client's own spelling of `grpc-websockets` (matched without regard
 * to case, as grpcwebproxy does), since RFC 6455 §4.2.2 has the server echo one of the values offered; undefined
 * when it was not offered, and then the upgrade is refused.
 */
export function selectSubprotocol(offered: Iterable<string>): string | undefined {
  for (const protocol of offered) {
    if (protocol.toLowerCase() === GRPC_WEBSOCKETS) return protocol;
  }
  return undefined;
}
