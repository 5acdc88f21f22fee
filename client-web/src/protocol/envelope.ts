import { type Code, ConnectError } from "@connectrpc/connect";

// gRPC-Web frames ("enveloped messages"): a flags byte, a 4-byte big-endian length, the payload.

/** Set on a frame that carries the trailers instead of a message. */
export const trailerFlag = 0x80;
/** Set on a frame whose payload is compressed, in the call's grpc-encoding. */
export const compressedFlag = 0x01;

/** A frame as read: its flags and its payload. */
export type Frame = readonly [flags: number, data: Uint8Array];

/** A message's payload as a frame, in two parts: the prefix and the payload itself. */
export function frameParts(payload: Uint8Array<ArrayBuffer>, flags = 0): Uint8Array<ArrayBuffer>[] {
  const prefix = new Uint8Array(5);
  prefix[0] = flags;
  new DataView(prefix.buffer).setUint32(1, payload.length);
  return [prefix, payload];
}

/**
 * The frames of a response body, each yielded as soon as its last byte arrives, however the body is
 * chunked. A body that ends inside a frame is a protocol error; one that breaks off is UNAVAILABLE,
 * the break named in the message (not as the cause: the cause of a fetch call's UNAVAILABLE says that
 * no response came, see explainErrors).
 */
export async function* readFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const reader = body.getReader();
  let pending = new Uint8Array(0);
  for (;;) {
    const end = pending.length > 4 && 5 + new DataView(pending.buffer, pending.byteOffset).getUint32(1);
    if (end && pending.length >= end) {
      yield [pending[0] as number, pending.subarray(5, end)];
      pending = pending.subarray(end);
      continue;
    }
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (cause) {
      throw new ConnectError(`the connection broke: ${cause}`, 14 satisfies Code.Unavailable);
    }
    if (chunk.done) {
      if (pending.length) throw protocolError("body ended inside a frame");
      return;
    }
    const joined = new Uint8Array(pending.length + chunk.value.length);
    joined.set(pending);
    joined.set(chunk.value, pending.length);
    pending = joined;
  }
}

/** A reply that breaks the gRPC-Web protocol: INTERNAL, as gRPC clients report it. */
export function protocolError(what: string): ConnectError {
  return new ConnectError(`protocol error: ${what}`, 13 satisfies Code.Internal);
}
