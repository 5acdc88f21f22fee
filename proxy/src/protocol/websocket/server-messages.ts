import { encodeTrailerFrame } from "../frame.js";

type Metadata = ReadonlyArray<readonly [string, string]>;

/** Empty response headers: a 0x80 frame with no lines. */
const NO_HEADERS = encodeTrailerFrame([]);

/**
 * The server side of a grpc-websockets call, as binary WebSocket messages: first the response headers, as a frame
 * flagged 0x80 holding `name:value\r\n` lines like a gRPC-Web trailer frame; then the upstream's DATA, each chunk
 * sent on untouched as a message of its own (not through here); last the trailers, a second 0x80 frame.
 *
 * improbable's client tells the two 0x80 frames apart only by order (the first is headers, the next trailers), so
 * a headers frame, even an empty one, always goes first. Its parser also stops at a 0x80 frame and reads what
 * follows it in the same message only when another message arrives, so each 0x80 frame is a message of its own.
 * The call ends when the socket closes, after the trailers.
 *
 * Frame boundaries are the caller's to follow (the call core does for every transport): trailers must not follow
 * DATA that stopped inside a message frame; such a call ends with a close that carries no status
 * (CloseCode.INTERNAL_ERROR).
 */
export class ServerMessages {
  #phase: "awaiting-headers" | "streaming" | "ended" = "awaiting-headers";

  get headersSent(): boolean {
    return this.#phase !== "awaiting-headers";
  }

  /** The response headers message, once, before any DATA. */
  headers(headers: Metadata): Buffer {
    if (this.#phase !== "awaiting-headers") {
      throw new Error(`response headers in phase ${this.#phase}: they go once, first`);
    }
    this.#phase = "streaming";
    return encodeTrailerFrame(headers);
  }

  /** The messages that end the call with `trailers` (grpc-status included): an empty headers message first when
   *  none went yet (a refusal before the upstream answered, a Trailers-Only response), then the trailers. */
  end(trailers: Metadata): Buffer[] {
    const phase = this.#phase;
    if (phase === "ended") throw new Error("the call has already ended");
    this.#phase = "ended";
    const last = encodeTrailerFrame(trailers);
    return phase === "awaiting-headers" ? [NO_HEADERS, last] : [last];
  }
}
