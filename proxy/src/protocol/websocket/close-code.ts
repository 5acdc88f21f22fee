/**
 * WebSocket close codes the proxy ends a call with (RFC 6455 §7.4.1). improbable's client ignores the code: to it
 * the close is only "the response has ended", so the gRPC status always travels in a trailer frame before it. The
 * code tells a raw client, a log or a network trace whose side ended the call.
 */
export const CloseCode = {
  /** The call ended and its status was sent, whatever that status is. */
  NORMAL: 1000,
  /** The proxy is shutting down (drain); an UNAVAILABLE status was sent first. */
  GOING_AWAY: 1001,
  /** The client broke the gRPC-over-WebSocket framing; an INTERNAL status was sent first. */
  PROTOCOL_ERROR: 1002,
  /** The client sent a text message where only binary ones are allowed; an INTERNAL status was sent first. */
  UNSUPPORTED_DATA: 1003,
  /** The client sent no first message (the metadata) in time; a DEADLINE_EXCEEDED status was sent first. */
  POLICY_VIOLATION: 1008,
  /** A client message was larger than the limit; a RESOURCE_EXHAUSTED status was sent first when it could be read. */
  MESSAGE_TOO_BIG: 1009,
  /** The call failed where no status could follow: the response had stopped in the middle of a message frame. */
  INTERNAL_ERROR: 1011,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
