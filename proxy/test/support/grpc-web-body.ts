// Hand-parsing of gRPC-Web response bodies, piece by piece as they arrive: the yardstick the proxy's
// own codecs are checked against, so it shares no code with them.

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

/** Splits bytes into gRPC frames (flag byte, 4-byte big-endian length, payload) as they arrive. */
export class FrameReader implements ParsedWebBody {
  readonly messages: WebMessage[] = [];
  trailers: Record<string, string> | undefined;
  trailerFrameCount = 0;
  private buffered = Buffer.alloc(0);

  push(bytes: Buffer, at: number): void {
    this.buffered = Buffer.concat([this.buffered, bytes]);
    while (this.buffered.length >= 5) {
      const end = 5 + this.buffered.readUInt32BE(1);
      if (this.buffered.length < end) return;
      const flags = this.buffered[0] as number;
      const payload = this.buffered.subarray(5, end);
      this.buffered = this.buffered.subarray(end);
      if (flags & 0x80) this.addTrailers(payload);
      else this.messages.push({ data: payload, at });
    }
  }

  /** Bytes received that do not (yet) make a whole frame. */
  get leftover(): number {
    return this.buffered.length;
  }

  private addTrailers(block: Buffer): void {
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
