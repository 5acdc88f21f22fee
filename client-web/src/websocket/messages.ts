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

/** A data message holding one frame, given as its parts (`frameParts`): the control byte, then the frame. */
export function dataMessage(frame: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 1;
  for (const part of frame) length += part.length;
  const message = new Uint8Array(length);
  message[0] = dataByte;
  let offset = 1;
  for (const part of frame) {
    message.set(part, offset);
    offset += part.length;
  }
  return message;
}
