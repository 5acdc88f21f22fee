// The client's messages of improbable-eng's grpc-websockets protocol (docs/websocket.md, "Client → proxy").

/** The WebSocket subprotocol the proxy requires on the upgrade. */
export const subprotocol = "grpc-websockets";

/** The control byte of a data message: the request bytes of a gRPC frame follow. */
const dataByte = 0x00;
/** The whole of the message that says the client has finished sending. */
export const finishedSending: Uint8Array<ArrayBuffer> = Uint8Array.of(0x01);

/** The first message: the request headers as `name: value\r\n` lines (repeated values already joined). */
export function headerLines(headers: Headers): Uint8Array<ArrayBuffer> {
  let lines = "";
  for (const [name, value] of headers) lines += `${name}: ${value}\r\n`;
  return new TextEncoder().encode(lines);
}

/** A data message holding one uncompressed frame of `payload`: the control byte, then the frame. */
export function dataMessage(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const message = new Uint8Array(6 + payload.length);
  message[0] = dataByte;
  // message[1], the frame's flags, stays 0: not compressed.
  new DataView(message.buffer).setUint32(2, payload.length);
  message.set(payload, 6);
  return message;
}
