/** Ways to cut a byte stream into chunks, for codecs that must not care where the cuts fall. */

/** One chunk per byte. */
export function oneByteAtATime(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

/** Every way to cut `bytes` in two, including an empty first or second half: [split, [head, tail]]. */
export function everySplit(bytes: Buffer): Array<[number, [Buffer, Buffer]]> {
  const splits: Array<[number, [Buffer, Buffer]]> = [];
  for (let at = 0; at <= bytes.length; at++) splits.push([at, [bytes.subarray(0, at), bytes.subarray(at)]]);
  return splits;
}

/** A gRPC frame: flags, 4-byte big-endian length, payload. */
export function frame(flags: number, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}
