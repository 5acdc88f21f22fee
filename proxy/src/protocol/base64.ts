import { Code, GrpcError } from "./status.js";

const QUANTUM = 4;
const PAD = "=";
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
const WHITESPACE = /[\r\n\t ]/g;
const EMPTY = Buffer.alloc(0);

/** Streaming base64 decoder for grpc-web-text request bodies: chunk boundaries anywhere, padding in the middle
 *  of the stream (separately padded segments: "AQI=AwQFBg==" is 01 02 03 04 05 06 — Buffer.from stops at the first
 *  '='), CR/LF/space ignored; keeps the 0–3 leftover chars for the next chunk.
 *
 *  Buffer.from(s, "base64") is lenient in ways a decoder of untrusted input must not be: it skips characters
 *  outside the alphabet and decodes a trailing partial quantum. So the text is checked first, and only whole
 *  quanta, each run ending at a padded quantum, are handed to it. */
export class Base64Decoder {
  private pending = "";
  private error: GrpcError | undefined;

  /** Decoded bytes so far (possibly empty); an INTERNAL GrpcError on bad characters or misplaced padding. */
  push(chunk: Buffer): Buffer | GrpcError {
    if (this.error !== undefined) return this.error;
    // latin1 maps each byte to one char, so string indices are byte offsets and no byte is lost.
    let text = this.pending + chunk.toString("latin1");
    if (NOT_BASE64.test(text)) {
      text = text.replace(WHITESPACE, "");
      const invalid = NOT_BASE64.exec(text);
      if (invalid !== null) {
        return this.fail(
          `grpc-web-text request body has a byte 0x${invalid[0].charCodeAt(0).toString(16).padStart(2, "0")} that is not base64`,
        );
      }
    }
    return this.decodeQuanta(text);
  }

  /** Leftover that is not a full quantum → error: padding is mandatory (as in Envoy), so a short tail means the
   *  body was cut, and guessing its bytes would forward a corrupt frame. */
  end(): GrpcError | undefined {
    if (this.error !== undefined) return this.error;
    if (this.pending === "") return undefined;
    return this.fail(
      `grpc-web-text request body ends with "${this.pending}", not a whole (padded) base64 quantum`,
    );
  }

  /** Decodes every complete quantum of `text` (which holds only alphabet and '=') and keeps the rest pending.
   *  Padded quanta are 4 characters too, so quanta always start at multiples of 4 from the text's start. */
  private decodeQuanta(text: string): Buffer | GrpcError {
    const complete = text.length - (text.length % QUANTUM);
    const runs: Buffer[] = [];
    let start = 0;
    for (let pad = text.indexOf(PAD); pad !== -1 && pad < complete; pad = text.indexOf(PAD, start)) {
      const position = pad % QUANTUM;
      // Only "xy==" and "xyz=" are padded quanta.
      if (position < 2 || (position === 2 && text[pad + 1] !== PAD)) {
        const quantum = text.slice(pad - position, pad - position + QUANTUM);
        return this.fail(`grpc-web-text request body has misplaced base64 padding in "${quantum}"`);
      }
      const quantumEnd = pad - position + QUANTUM;
      runs.push(Buffer.from(text.slice(start, quantumEnd), "base64"));
      start = quantumEnd;
    }
    if (start < complete) runs.push(Buffer.from(text.slice(start, complete), "base64"));
    this.pending = text.slice(complete);
    if (runs.length <= 1) return runs[0] ?? EMPTY;
    return Buffer.concat(runs);
  }

  private fail(message: string): GrpcError {
    this.error = new GrpcError(Code.INTERNAL, message);
    this.pending = "";
    return this.error;
  }
}
