// Incremental decoder for grpc-web-text response bodies. A server may base64-encode each chunk on its
// own, so padding ("=") can appear between frames, and a chunk can end inside a 4-character group.

export class Base64TextDecoder {
  private carry = "";

  /** Decodes what is complete so far; keeps an unfinished 4-character group for the next call. */
  push(text: string): Buffer {
    const input = this.carry + text;
    const groups: string[] = [];
    let start = 0;
    // Each run ending in padding is its own base64 string; decode them one by one.
    for (let pad = input.indexOf("="); pad !== -1; pad = input.indexOf("=", start)) {
      let end = pad;
      while (input[end] === "=") end++;
      groups.push(input.slice(start, end));
      start = end;
    }
    const whole = start + Math.floor((input.length - start) / 4) * 4;
    groups.push(input.slice(start, whole));
    this.carry = input.slice(whole);
    const decoded = groups.map((group) => Buffer.from(group, "base64"));
    return decoded.length === 1 ? (decoded[0] as Buffer) : Buffer.concat(decoded);
  }

  /** True when the body ended on a group boundary, as valid base64 must. */
  get complete(): boolean {
    return this.carry.length === 0;
  }
}
