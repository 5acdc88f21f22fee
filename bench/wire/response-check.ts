// Decides whether one response is a verified success: every data frame equals the expected reply,
// exactly the expected number of them arrived, and the status is grpc-status 0 (from the gRPC-Web
// trailer frame, or from HTTP/2 trailers for native gRPC). A fast error never counts.
import { FRAME_HEADER_BYTES, parseTrailerBlock, TRAILER_FLAG } from "./frames.js";

export interface Expectation {
  /** The serialized reply every data frame must carry. */
  payload: Buffer;
  /** How many replies make the call complete; for idle streams, the minimum seen before closing. */
  messages: number;
}

export class ResponseCheck {
  messages = 0;
  failure: string | undefined;
  private status: string | undefined;
  /** Bytes of a frame split across chunks. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The split frame's full size once its header is in, else 0. */
  private pendingTotal = 0;

  constructor(
    private readonly expected: Expectation,
    private readonly onMessage?: () => void,
  ) {}

  /** Feeds response body bytes (already base64-decoded in text mode), split anywhere. */
  push(chunk: Buffer): void {
    const offset = this.completePending(chunk);
    if (offset < 0) return;
    let at = offset;
    while (chunk.length - at >= FRAME_HEADER_BYTES) {
      const end = at + FRAME_HEADER_BYTES + chunk.readUInt32BE(at + 1);
      if (end > chunk.length) break;
      this.frame(chunk[at] ?? 0, chunk.subarray(at + FRAME_HEADER_BYTES, end));
      at = end;
    }
    if (at < chunk.length) {
      this.pending.push(chunk.subarray(at));
      this.pendingBytes = chunk.length - at;
    }
  }

  /**
   * Finishes a frame split over earlier chunks with the head of `chunk`, copying only that frame once.
   * Returns where whole frames start in `chunk`, or -1 when all of it belongs to the split frame.
   */
  private completePending(chunk: Buffer): number {
    if (this.pending.length === 0) return 0;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingTotal === 0 && this.pendingBytes >= FRAME_HEADER_BYTES) {
      this.pendingTotal =
        FRAME_HEADER_BYTES + Buffer.concat(this.pending, FRAME_HEADER_BYTES).readUInt32BE(1);
    }
    if (this.pendingTotal === 0 || this.pendingBytes < this.pendingTotal) return -1;
    const joined = Buffer.concat(this.pending, this.pendingTotal);
    const rest = this.pendingBytes - this.pendingTotal;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTotal = 0;
    this.frame(joined[0] ?? 0, joined.subarray(FRAME_HEADER_BYTES));
    return chunk.length - rest;
  }

  /** Native gRPC: the status arrives as HTTP/2 trailers (or in trailers-only headers). */
  trailers(status: string | undefined): void {
    this.status ??= status;
  }

  /** The verdict once the response has ended: undefined when verified, else why not. */
  verdict(): string | undefined {
    if (this.failure) return this.failure;
    if (this.pending.length > 0) return "response ended inside a frame";
    if (this.status === undefined) return "no grpc-status trailer";
    if (this.status !== "0") return `grpc-status ${this.status}`;
    if (this.messages !== this.expected.messages) {
      return `expected ${this.expected.messages} replies, got ${this.messages}`;
    }
    return undefined;
  }

  private frame(flag: number, payload: Buffer): void {
    if (this.status !== undefined) {
      this.failure ??= "frame after the trailer frame";
    } else if (flag === TRAILER_FLAG) {
      this.status = parseTrailerBlock(payload).get("grpc-status") ?? "missing";
    } else if (flag !== 0) {
      this.failure ??= `unexpected frame flag ${flag}`;
    } else if (!payload.equals(this.expected.payload)) {
      this.failure ??= "reply differs from the expected one";
    } else {
      this.messages++;
      this.onMessage?.();
    }
  }
}
