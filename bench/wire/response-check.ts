// Decides whether one response is a verified success: every data frame equals the expected reply,
// exactly the expected number of them arrived, and the status is grpc-status 0 (from the gRPC-Web
// trailer frame, or from HTTP/2 trailers for native gRPC). A fast error never counts.
import { FrameReader } from "./frame-reader.js";
import { parseTrailerBlock, TRAILER_FLAG } from "./frames.js";

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
  private readonly frames = new FrameReader((flag, payload) => this.frame(flag, payload));

  constructor(
    private readonly expected: Expectation,
    private readonly onMessage?: () => void,
  ) {}

  /** Feeds response body bytes (already base64-decoded in text mode), split anywhere. */
  push(chunk: Buffer): void {
    this.frames.push(chunk);
  }

  /** Native gRPC: the status arrives as HTTP/2 trailers (or in trailers-only headers). */
  trailers(status: string | undefined): void {
    this.status ??= status;
  }

  /** The verdict once the response has ended: undefined when verified, else why not. */
  verdict(): string | undefined {
    const malformed = this.frames.end();
    if (this.failure) return this.failure;
    if (malformed) return malformed;
    if (this.status === undefined) return "no grpc-status trailer";
    if (this.status !== "0") return `grpc-status ${this.status}`;
    if (this.messages !== this.expected.messages) {
      return `expected ${this.expected.messages} replies, got ${this.messages}`;
    }
    return undefined;
  }

  private frame(flag: number, payload: Buffer): void {
    if (flag === TRAILER_FLAG) {
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
