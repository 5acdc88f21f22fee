import { encodeTrailerFrame, FrameBoundaryTracker } from "../frame.js";
import type { GrpcError } from "../status.js";

type Metadata = ReadonlyArray<readonly [string, string]>;

type WriterState =
  | { readonly phase: "awaiting-headers" }
  | { readonly phase: "streaming" }
  /** The upstream's bytes broke a frame rule; `sendable` is the part of the bad chunk made of whole frames, or
   *  "mid-frame" when the bad frame began in an earlier chunk, which is already on its way to the browser. */
  | { readonly phase: "refused-response"; readonly sendable: Buffer | "mid-frame" }
  | { readonly phase: "ended" };

/**
 * The server side of a grpc-websockets call, as binary WebSocket messages: first the response headers, as a frame
 * flagged 0x80 holding `name:value\r\n` lines like a gRPC-Web trailer frame; then the upstream's message frames as
 * they come, each chunk passed on untouched; last the trailers, a second 0x80 frame. Every buffer returned is one
 * WebSocket message.
 *
 * improbable's client tells the two 0x80 frames apart only by order (the first is headers, the next trailers), so
 * a headers frame, even an empty one, always goes first. Its parser also stops at a 0x80 frame and reads what
 * follows it in the same message only when another message arrives, so each 0x80 frame is a message of its own.
 * The call ends when the socket closes; the close code follows the trailers message.
 */
export class ServerMessageWriter {
  readonly #frames: FrameBoundaryTracker;
  #state: WriterState = { phase: "awaiting-headers" };

  /** `maxResponseMessageBytes`: a larger message from the upstream ends the call with RESOURCE_EXHAUSTED. */
  constructor(maxResponseMessageBytes: number) {
    this.#frames = new FrameBoundaryTracker(maxResponseMessageBytes);
  }

  /** The response headers message, once, before any data. */
  headers(headers: Metadata): Buffer {
    if (this.#state.phase !== "awaiting-headers") {
      throw new Error(`response headers in phase ${this.#state.phase}: they go once, first`);
    }
    this.#state = { phase: "streaming" };
    return encodeTrailerFrame(headers);
  }

  /** A chunk of the upstream's DATA → the same Buffer, to send as one message; or why it must not be sent, and
   *  then the call ends with `end` and that error's status. */
  data(chunk: Buffer): Buffer | GrpcError {
    if (this.#state.phase !== "streaming") {
      throw new Error(
        `response data in phase ${this.#state.phase}: data goes between the headers and trailers`,
      );
    }
    const error = this.#frames.push(chunk);
    if (error === undefined) return chunk;
    const before = this.#frames.bytesBeforeError;
    this.#state = {
      phase: "refused-response",
      sendable: before === undefined ? "mid-frame" : chunk.subarray(0, before),
    };
    return error;
  }

  /**
   * The messages that end the call with `trailers` (grpc-status included): an empty headers message first if none
   * went yet, whole frames of a refused chunk, then the trailers message. undefined when the bytes sent so far
   * stop inside a message frame: a trailer frame after them would be read as the rest of that message, so the
   * call can only end with a close that carries no status (CloseCode.INTERNAL_ERROR).
   */
  end(trailers: Metadata): Buffer[] | undefined {
    const state = this.#state;
    this.#state = { phase: "ended" };
    switch (state.phase) {
      case "awaiting-headers":
        return [encodeTrailerFrame([]), encodeTrailerFrame(trailers)];
      case "streaming":
        return this.#frames.atBoundary ? [encodeTrailerFrame(trailers)] : undefined;
      case "refused-response":
        if (state.sendable === "mid-frame") return undefined;
        return state.sendable.length > 0
          ? [state.sendable, encodeTrailerFrame(trailers)]
          : [encodeTrailerFrame(trailers)];
      case "ended":
        throw new Error("the call has already ended");
    }
  }
}
