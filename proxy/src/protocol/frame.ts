import { Code, GrpcError } from "./status.js";

/** Every gRPC and gRPC-Web frame starts with a flags byte and a 4-byte big-endian payload length. */
export const FRAME_HEADER_BYTES = 5;
export const FLAG_COMPRESSED = 0x01;
/** gRPC-Web only: marks the frame that carries the trailers (doc/PROTOCOL-WEB.md "Message framing"). */
export const FLAG_TRAILER = 0x80;
const KNOWN_FLAGS = FLAG_COMPRESSED | FLAG_TRAILER;

/** Trailer frame: 0x80, 4-byte big-endian length, then "name:value\r\n" lines, names lower-cased, no blank line.
 *  One Buffer. Values are written as latin1, which gives back the exact bytes node's http2 read them from. */
export function encodeTrailerFrame(trailers: ReadonlyArray<readonly [string, string]>): Buffer {
  let block = "";
  for (const [name, value] of trailers) block += `${name.toLowerCase()}:${value}\r\n`;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + block.length);
  frame[0] = FLAG_TRAILER;
  frame.writeUInt32BE(block.length, 1);
  frame.write(block, FRAME_HEADER_BYTES, "latin1");
  return frame;
}

/** Collects the 5 header bytes of one frame, however the stream is split. */
class FrameHeader {
  private filled = 0;
  flags = 0;
  length = 0;

  get started(): boolean {
    return this.filled > 0;
  }

  get complete(): boolean {
    return this.filled === FRAME_HEADER_BYTES;
  }

  /** Takes header bytes from `chunk` starting at `from`; returns the index of the first byte it did not take. */
  read(chunk: Uint8Array, from: number): number {
    let at = from;
    while (this.filled < FRAME_HEADER_BYTES && at < chunk.length) {
      const byte = chunk[at++] as number;
      if (this.filled === 0) this.flags = byte;
      // Multiplication, not <<, so that lengths of 2^31 and above stay positive.
      else this.length = this.length * 256 + byte;
      this.filled++;
    }
    return at;
  }

  reset(): void {
    this.filled = 0;
    this.length = 0;
  }
}

interface RequestBodyOptions {
  readonly maxMessageBytes: number;
  /** The request has a grpc-encoding other than identity. */
  readonly compressed: boolean;
}

function checkRequestFrameHeader(
  flags: number,
  length: number,
  options: RequestBodyOptions,
): GrpcError | undefined {
  if (flags & FLAG_TRAILER) {
    return new GrpcError(
      Code.INTERNAL,
      "request frame has the trailer flag (0x80): client frames must not carry the trailer flag, only responses end with a trailer frame",
    );
  }
  if (flags & ~KNOWN_FLAGS) {
    return new GrpcError(Code.INTERNAL, `request frame has unknown flags 0x${flags.toString(16)}`);
  }
  if (flags & FLAG_COMPRESSED && !options.compressed) {
    return new GrpcError(
      Code.INTERNAL,
      "request frame has the compressed flag but the request has no grpc-encoding (or identity)",
    );
  }
  if (length > options.maxMessageBytes) {
    return new GrpcError(
      Code.RESOURCE_EXHAUSTED,
      `request message of ${length} bytes is larger than the limit of ${options.maxMessageBytes} bytes`,
    );
  }
  return undefined;
}

const EMPTY = Buffer.alloc(0);

/** Incremental reader of the request body (gRPC-Web over fetch carries at most ONE message): checks each frame
 *  header as soon as its 5 bytes arrive — before buffering the payload — and collects the body chunks
 *  (keeping the caller's Buffers, no copy for a single-chunk body). */
export class RequestBodyReader {
  private readonly options: RequestBodyOptions;
  private readonly header = new FrameHeader();
  private chunks: Buffer[] = [];
  private received = 0;
  private error: GrpcError | undefined;

  constructor(options: RequestBodyOptions) {
    this.options = options;
  }

  /** The whole frame's bytes, header included, once its header has arrived. */
  get declaredBytes(): number | undefined {
    return this.header.complete ? FRAME_HEADER_BYTES + this.header.length : undefined;
  }

  /** undefined while all is well; a GrpcError as soon as the body is known to be bad. */
  push(chunk: Buffer): GrpcError | undefined {
    if (this.error !== undefined || chunk.length === 0) return this.error;
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (!this.header.complete) {
      // Every byte before this chunk was a header byte, so the header continues at the chunk's start.
      this.header.read(chunk, 0);
      if (!this.header.complete) return undefined;
      const bad = checkRequestFrameHeader(this.header.flags, this.header.length, this.options);
      if (bad !== undefined) return this.fail(bad);
    }
    // One frame only, so any byte past its end starts a second message.
    if (this.received > FRAME_HEADER_BYTES + this.header.length) {
      return this.fail(
        new GrpcError(
          Code.UNIMPLEMENTED,
          "request body holds more than one message: client-streaming and bidi calls cannot be carried by gRPC-Web over HTTP/1.1 fetch",
        ),
      );
    }
    return undefined;
  }

  /** At end of body: the whole body as one Buffer (Buffer.concat only when it came in several chunks), or why it is bad. */
  end(): Buffer | GrpcError {
    const parts = this.endParts();
    if (parts instanceof GrpcError) return parts;
    return parts.length <= 1 ? (parts[0] ?? EMPTY) : Buffer.concat(parts, this.received);
  }

  /**
   * At end of body: the chunks the body came in, never copied (none for an empty body: zero frames, passed on as
   * such, the upstream decides what an absent message means), or why it is bad.
   */
  endParts(): readonly Buffer[] | GrpcError {
    if (this.error !== undefined) return this.error;
    const needed = this.header.complete ? FRAME_HEADER_BYTES + this.header.length : FRAME_HEADER_BYTES;
    if (this.received > 0 && this.received < needed) {
      return this.fail(
        new GrpcError(
          Code.INTERNAL,
          `request body truncated: it ended after ${this.received} bytes of a frame that needs ${needed}`,
        ),
      );
    }
    return this.chunks;
  }

  private fail(error: GrpcError): GrpcError {
    this.error = error;
    this.chunks = [];
    return error;
  }
}

/** Follows frame boundaries in a response byte stream without copying: says where in each chunk the last whole
 *  frame ends and whether the stream is at a frame boundary (a trailer frame may follow), and counts frames; reports a trailer frame
 *  sent by the upstream inside DATA (not legal in native gRPC), or a message larger than `maxMessageBytes`, as an
 *  error. */
export class FrameBoundaryTracker {
  private readonly header = new FrameHeader();
  private readonly maxMessageBytes: number;
  private payloadLeft = 0;
  private completed = 0;
  private firstFrameEnd = 0;
  private lastFrameEnd = 0;
  private error: GrpcError | undefined;
  private errorFrameAt: number | undefined;

  constructor(maxMessageBytes = Number.POSITIVE_INFINITY) {
    this.maxMessageBytes = maxMessageBytes;
  }

  push(chunk: Uint8Array): GrpcError | undefined {
    if (this.error !== undefined) return this.error;
    let at = 0;
    this.firstFrameEnd = 0;
    this.lastFrameEnd = 0;
    while (at < chunk.length) {
      if (this.payloadLeft > 0) {
        const taken = Math.min(this.payloadLeft, chunk.length - at);
        this.payloadLeft -= taken;
        at += taken;
        if (this.payloadLeft === 0) this.frameEnded(at);
        continue;
      }
      const frameAt = this.header.started ? undefined : at;
      at = this.header.read(chunk, at);
      if (!this.header.complete) break;
      if (this.header.flags & FLAG_TRAILER) {
        return this.fail(
          Code.INTERNAL,
          "upstream sent a frame with the trailer flag (0x80) inside DATA, which native gRPC does not allow",
          frameAt,
        );
      }
      if (this.header.length > this.maxMessageBytes) {
        return this.fail(
          Code.RESOURCE_EXHAUSTED,
          `response message of ${this.header.length} bytes is larger than the limit of ${this.maxMessageBytes} bytes`,
          frameAt,
        );
      }
      this.payloadLeft = this.header.length;
      this.header.reset();
      if (this.payloadLeft === 0) this.frameEnded(at);
    }
    return undefined;
  }

  /**
   * How many bytes of the last chunk pushed come before the end of the last frame that ended in it (0 when
   * none did): a response can pass on that much and hold back the rest, the start of a message in progress.
   */
  get endOfLastFrame(): number {
    return this.lastFrameEnd;
  }

  /** The same for the first frame that ended in the last chunk: where a message begun earlier ends. */
  get endOfFirstFrame(): number {
    return this.firstFrameEnd;
  }

  private frameEnded(at: number): void {
    this.completed++;
    if (this.firstFrameEnd === 0) this.firstFrameEnd = at;
    this.lastFrameEnd = at;
  }

  /**
   * After an error: how many bytes of the failing chunk came before the bad frame (whole frames, or the end of
   * one), which may still be sent so that the stream ends on a boundary; undefined when the bad frame's header
   * began in an earlier chunk.
   */
  get bytesBeforeError(): number | undefined {
    return this.error === undefined ? undefined : this.errorFrameAt;
  }

  get atBoundary(): boolean {
    return !this.header.started && this.payloadLeft === 0;
  }

  private fail(code: Code, message: string, frameAt: number | undefined): GrpcError {
    this.error = new GrpcError(code, message);
    this.errorFrameAt = frameAt;
    return this.error;
  }

  /** Complete frames seen. */
  get frames(): number {
    return this.completed;
  }
}
