// Shared pieces of the property-based tests: run settings, and arbitraries for byte streams cut anywhere.
import fc from "fast-check";
import { frame } from "./chunks.js";

/** Seeded, so `npm test` is deterministic. `FUZZ_SEED=<n>` replays a reported failure; `FUZZ_RUNS=<n>` digs deeper. */
export function fuzzRuns(numRuns = 300): { seed: number; numRuns: number } {
  return {
    seed: Number(process.env.FUZZ_SEED ?? 20_250_707),
    numRuns: Number(process.env.FUZZ_RUNS ?? numRuns),
  };
}

/** Cut points for a stream of unknown length: each is taken modulo length + 1, so repeats give empty chunks. */
export const cuts = fc.array(fc.nat(), { maxLength: 12 });

/** `bytes` cut at `at` (positions modulo length + 1), in order, empty chunks included. */
export function cutAt(bytes: Buffer, at: readonly number[]): Buffer[] {
  const points = at.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

export interface FrameSpec {
  readonly flags: number;
  readonly payload: Uint8Array;
}

/** A message frame as a native gRPC peer may send it: compressed or not, any payload (empty included). */
export const messageFrame: fc.Arbitrary<FrameSpec> = fc.record({
  flags: fc.constantFrom(0x00, 0x01),
  payload: fc.uint8Array({ maxLength: 300 }),
});

export function encodeFrames(frames: readonly FrameSpec[]): Buffer {
  return Buffer.concat(frames.map((f) => frame(f.flags, Buffer.from(f.payload))));
}

/** Byte offsets where each frame of `frames` ends, once encoded. */
export function frameEnds(frames: readonly FrameSpec[]): number[] {
  let offset = 0;
  return frames.map((f) => {
    offset += 5 + f.payload.length;
    return offset;
  });
}

/**
 * grpc-web-text as a client may send it: the bytes cut into segments, each base64-encoded with its own padding
 * (a flush may pad mid-stream), and optionally CR/LF or spaces between characters.
 */
export function base64Text(bytes: Buffer, segments: readonly number[], spaces: readonly number[]): Buffer {
  let text = cutAt(bytes, segments)
    .map((segment) => segment.toString("base64"))
    .join("");
  for (const at of [...spaces].sort((a, b) => b - a)) {
    const position = at % (text.length + 1);
    text = `${text.slice(0, position)}${WHITESPACE[at % WHITESPACE.length]}${text.slice(position)}`;
  }
  return Buffer.from(text, "latin1");
}

const WHITESPACE = ["\r\n", "\n", " ", "\t"];

/** Text that is mostly base64, with padding, whitespace and the odd stray byte: finds decoder edge cases fast. */
export const base64ishText: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      {
        weight: 12,
        arbitrary: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
      },
      { weight: 4, arbitrary: fc.constant("=") },
      { weight: 1, arbitrary: fc.constantFrom("\r", "\n", " ", "\t") },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)) },
    ),
    { maxLength: 64 },
  )
  .map((chars) => Buffer.from(chars.join(""), "latin1"));
