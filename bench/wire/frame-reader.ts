// The one reader of gRPC length-prefixed frames in a response body that the bench's checker and the tests'
// client share. It is the yardstick the proxy is measured with, so it shares no code with the proxy's codecs,
// and it takes nothing a correct response does not hold.
import { FRAME_HEADER_BYTES } from "./frames.js";

/** The flag bit of a gRPC-Web trailer frame (0x80, or 0x81 with the compressed bit). */
const TRAILER_BIT = 0x80;

/**
 * Splits a response body into frames as its bytes arrive, cut anywhere; a frame that spans chunks is copied
 * once, whole frames inside a chunk not at all. A frame after the trailer frame is not passed on but recorded
 * as the body's failure, and so are bytes left over when the body ends (`end()`).
 */
export class FrameReader {
  /** Why the body is not a well-formed sequence of frames; undefined while it is. */
  failure: string | undefined;
  #trailerSeen = false;
  /** Bytes of a frame split across chunks. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The split frame's full size once its header is in, else 0. */
  #pendingTotal = 0;

  constructor(private readonly onFrame: (flag: number, payload: Buffer) => void) {}

  /** Feeds body bytes (already base64-decoded in text mode). */
  push(chunk: Buffer): void {
    const offset = this.#completePending(chunk);
    if (offset < 0) return;
    let at = offset;
    while (chunk.length - at >= FRAME_HEADER_BYTES) {
      const end = at + FRAME_HEADER_BYTES + chunk.readUInt32BE(at + 1);
      if (end > chunk.length) break;
      this.#frame(chunk[at] ?? 0, chunk.subarray(at + FRAME_HEADER_BYTES, end));
      at = end;
    }
    if (at < chunk.length) {
      this.#pending.push(chunk.subarray(at));
      this.#pendingBytes = chunk.length - at;
    }
  }

  /** Bytes received that do not make a whole frame (yet). */
  get leftover(): number {
    return this.#pendingBytes;
  }

  /** At the end of the body: the failure, if any, including a body that ended inside a frame. */
  end(): string | undefined {
    if (this.#pendingBytes > 0) this.failure ??= "response ended inside a frame";
    return this.failure;
  }

  /**
   * Finishes a frame split over earlier chunks with the head of `chunk`, copying only that frame once.
   * Returns where whole frames start in `chunk`, or -1 when all of it belongs to the split frame.
   */
  #completePending(chunk: Buffer): number {
    if (this.#pending.length === 0) return 0;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingTotal === 0 && this.#pendingBytes >= FRAME_HEADER_BYTES) {
      this.#pendingTotal =
        FRAME_HEADER_BYTES + Buffer.concat(this.#pending, FRAME_HEADER_BYTES).readUInt32BE(1);
    }
    if (this.#pendingTotal === 0 || this.#pendingBytes < this.#pendingTotal) return -1;
    const joined = Buffer.concat(this.#pending, this.#pendingTotal);
    const rest = this.#pendingBytes - this.#pendingTotal;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pendingTotal = 0;
    this.#frame(joined[0] ?? 0, joined.subarray(FRAME_HEADER_BYTES));
    return chunk.length - rest;
  }

  #frame(flag: number, payload: Buffer): void {
    if (this.#trailerSeen) {
      // SPEC-W: the trailer frame is the last one; a client that read on would take anything for a message.
      this.failure ??= "frame after the trailer frame";
      return;
    }
    if (flag & TRAILER_BIT) this.#trailerSeen = true;
    this.onFrame(flag, payload);
  }
}
