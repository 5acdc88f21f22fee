// Hand-parsing of gRPC-Web response bodies, piece by piece as they arrive: the yardstick the proxy's
// own codecs are checked against, so it shares no code with them.
import { FrameReader } from "../../../bench/wire/frame-reader.js";

export interface WebMessage {
  data: Buffer;
  /** ms since the request was sent, when the last byte of this message arrived. */
  at: number;
}

export interface ParsedWebBody {
  messages: WebMessage[];
  /** The trailer frames' fields, merged; undefined when no trailer frame came. */
  trailers: Record<string, string> | undefined;
  trailerFrameCount: number;
}

/** Decodes base64 text chunk by chunk, one 4-character quantum at a time, so padding may come anywhere. */
export class Base64Quanta {
  private pending = "";

  push(text: string): Buffer {
    this.pending += text.replace(/\s+/g, "");
    const whole = this.pending.length - (this.pending.length % 4);
    const quanta = this.pending.slice(0, whole);
    this.pending = this.pending.slice(whole);
    const bytes: Buffer[] = [];
    // Node's base64 decoder stops at the first '=', so never hand it more than one quantum.
    for (let i = 0; i < quanta.length; i += 4) bytes.push(Buffer.from(quanta.slice(i, i + 4), "base64"));
    return Buffer.concat(bytes);
  }
}

/**
 * Messages and trailers of a response body as it arrives, with when each message came. The frames come from the
 * bench's reader (bench/wire/frame-reader.ts), the one both measure the proxy with; like it, this takes nothing a
 * correct body does not hold: `end()` says what is wrong with one that is not.
 */
export class WebBodyParser implements ParsedWebBody {
  readonly messages: WebMessage[] = [];
  trailers: Record<string, string> | undefined;
  trailerFrameCount = 0;
  #at = 0;
  readonly #frames = new FrameReader((flags, payload) => {
    if (flags & 0x80) return this.#addTrailers(payload);
    const message = { data: payload, at: this.#at };
    this.messages.push(message);
    this.onMessage?.(message);
  });

  /** `onMessage` hears of each message as it arrives, for a test that acts in the middle of a stream. */
  constructor(private readonly onMessage?: (message: WebMessage) => void) {}

  /** Body bytes (base64-decoded in text mode) that arrived `at` ms after the request was sent. */
  push(bytes: Buffer, at: number): void {
    this.#at = at;
    this.#frames.push(bytes);
  }

  /** Bytes received that do not (yet) make a whole frame. */
  get leftover(): number {
    return this.#frames.leftover;
  }

  /** At the end of the body: undefined when it was whole frames with nothing after the trailer frame, else why not. */
  end(): string | undefined {
    return this.#frames.end();
  }

  #addTrailers(block: Buffer): void {
    this.trailerFrameCount++;
    this.trailers ??= {};
    for (const line of block.toString("latin1").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      this.trailers[name] = name in this.trailers ? `${this.trailers[name]}, ${value}` : value;
    }
  }
}
