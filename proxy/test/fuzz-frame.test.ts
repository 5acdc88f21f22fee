// Property-based tests of the frame codecs: any frames, any chunking, any garbage.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { encodeTrailerFrame, FrameBoundaryTracker, RequestBodyReader } from "../src/protocol/frame.js";
import { Code, GrpcError } from "../src/protocol/status.js";
import { frame } from "./support/chunks.js";
import { cutAt, cuts, encodeFrames, frameEnds, fuzzRuns, messageFrame } from "./support/fuzz.js";

interface ReaderOptions {
  readonly maxMessageBytes: number;
  readonly compressed: boolean;
}

type Verdict = { readonly bytes: Buffer } | { readonly code: number; readonly message: string };

/** Feeds `chunks` to a fresh reader; the first error wins, as in the proxy (it stops reading then). */
function readBody(chunks: readonly Buffer[], options: ReaderOptions): Verdict {
  const reader = new RequestBodyReader(options);
  for (const chunk of chunks) {
    const error = reader.push(chunk);
    if (error !== undefined) return asVerdict(error);
  }
  return asVerdict(reader.end());
}

function asVerdict(result: Buffer | GrpcError): Verdict {
  if (result instanceof GrpcError) return { code: result.code, message: result.message };
  assert.ok(Buffer.isBuffer(result), `a Buffer or a GrpcError, got ${String(result)}`);
  return { bytes: Buffer.from(result) };
}

/** What the request body rules say about a whole body, written from the rules, not from the reader. */
function expectedVerdict(body: Buffer, { maxMessageBytes, compressed }: ReaderOptions): number | "ok" {
  if (body.length === 0) return "ok";
  if (body.length < 5) return Code.INTERNAL;
  const flags = body[0] as number;
  const length = body.readUInt32BE(1);
  if (flags & 0x80 || flags & ~0x81 || (flags & 0x01 && !compressed)) return Code.INTERNAL;
  if (length > maxMessageBytes) return Code.RESOURCE_EXHAUSTED;
  if (body.length > 5 + length) return Code.UNIMPLEMENTED;
  if (body.length < 5 + length) return Code.INTERNAL;
  return "ok";
}

const readerOptions = fc.record({
  maxMessageBytes: fc.integer({ min: 1, max: 600 }),
  compressed: fc.boolean(),
});

/** Bodies shaped like a frame but wrong in one way or another: flags, a length that is off, extra bytes. */
const frameLikeBody = fc
  .record({
    flags: fc.oneof(fc.constantFrom(0x00, 0x01, 0x80, 0x81, 0x02), fc.integer({ min: 0, max: 255 })),
    payload: fc.uint8Array({ maxLength: 64 }),
    lengthDelta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(2 ** 32 - 1)),
    tail: fc.uint8Array({ maxLength: 8 }),
    cut: fc.nat(),
  })
  .map(({ flags, payload, lengthDelta, tail, cut }) => {
    const header = Buffer.alloc(5);
    header[0] = flags;
    const length = lengthDelta === 2 ** 32 - 1 ? lengthDelta : Math.max(0, payload.length + lengthDelta);
    header.writeUInt32BE(length, 1);
    const body = Buffer.concat([header, payload, tail]);
    // Sometimes cut short, to end inside the header or the payload.
    return cut % 4 === 0 ? body.subarray(0, cut % (body.length + 1)) : body;
  });

const anyBody = fc.oneof(
  frameLikeBody,
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
);

describe("RequestBodyReader, for any input", () => {
  test("one frame within the limit comes back byte for byte, however it is chunked", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), cuts, (payload, at) => {
        const body = frame(0, Buffer.from(payload));
        const verdict = readBody(cutAt(body, at), { maxMessageBytes: 600, compressed: false });
        assert.deepEqual(verdict, { bytes: body });
      }),
      fuzzRuns(),
    );
  });

  test("any bytes give the verdict the framing rules give, the same at every chunking, and never throw", () => {
    fc.assert(
      fc.property(anyBody, readerOptions, cuts, (body, options, at) => {
        const whole = readBody([body], options);
        const chunked = readBody(cutAt(body, at), options);
        assert.deepEqual(chunked, whole, "chunking changes nothing, error messages included");
        const expected = expectedVerdict(body, options);
        if (expected === "ok") assert.deepEqual(whole, { bytes: body });
        else assert.equal("code" in whole && whole.code, expected, JSON.stringify(whole));
      }),
      fuzzRuns(1000),
    );
  });

  test("after its first error a reader answers every push and the end with that same error", () => {
    fc.assert(
      fc.property(
        anyBody,
        readerOptions,
        fc.array(fc.uint8Array({ maxLength: 16 })),
        (body, options, more) => {
          const reader = new RequestBodyReader(options);
          const first = reader.push(body) ?? reader.end();
          if (!(first instanceof GrpcError)) return;
          for (const chunk of more) assert.equal(reader.push(Buffer.from(chunk)), first);
          assert.equal(reader.end(), first);
        },
      ),
      fuzzRuns(),
    );
  });
});

describe("FrameBoundaryTracker, for any response stream", () => {
  test("is on a frame boundary exactly where a frame ends, and counts the frames, at any chunking", () => {
    fc.assert(
      fc.property(fc.array(messageFrame, { maxLength: 8 }), cuts, (frames, at) => {
        const ends = frameEnds(frames);
        const tracker = new FrameBoundaryTracker();
        let offset = 0;
        for (const chunk of cutAt(encodeFrames(frames), at)) {
          assert.equal(tracker.push(chunk), undefined);
          offset += chunk.length;
          assert.equal(tracker.atBoundary, offset === 0 || ends.includes(offset), `at byte ${offset}`);
          assert.equal(tracker.frames, ends.filter((end) => end <= offset).length, `at byte ${offset}`);
        }
        assert.equal(tracker.frames, frames.length);
      }),
      fuzzRuns(),
    );
  });

  test("a trailer-flagged frame after any frames is INTERNAL, at any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(messageFrame, { maxLength: 4 }),
        fc.constantFrom(0x80, 0x81),
        fc.uint8Array({ maxLength: 20 }),
        cuts,
        (frames, flags, payload, at) => {
          const stream = Buffer.concat([encodeFrames(frames), frame(flags, Buffer.from(payload))]);
          const tracker = new FrameBoundaryTracker();
          const errors = cutAt(stream, at).map((chunk) => tracker.push(chunk));
          const error = errors.find((e) => e !== undefined);
          assert.ok(error instanceof GrpcError);
          assert.equal(error.code, Code.INTERNAL);
          assert.equal(errors.at(-1), error, "stays an error");
          assert.equal(tracker.frames, frames.length);
        },
      ),
      fuzzRuns(),
    );
  });

  test("any bytes never throw, and the outcome does not depend on the chunking", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), cuts, (bytes, at) => {
        const outcome = (chunks: Buffer[]) => {
          const tracker = new FrameBoundaryTracker();
          let error: GrpcError | undefined;
          for (const chunk of chunks) error = tracker.push(chunk);
          if (error !== undefined) assert.equal(error.code, Code.INTERNAL);
          return { error: error?.message, frames: tracker.frames, atBoundary: tracker.atBoundary };
        };
        const body = Buffer.from(bytes);
        assert.deepEqual(outcome(cutAt(body, at)), outcome([body]));
      }),
      fuzzRuns(1000),
    );
  });
});

/** Trailer names as a backend may send them (HTTP/2 has them lower-case; the encoder lower-cases anyway). */
const trailerName = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_."),
  minLength: 1,
  maxLength: 20,
});
/** Values as node's http2 hands them over: latin1 strings that HTTP/2 allows (no CR, LF or NUL), not trimmed. */
const trailerValue = fc
  .string({ unit: "binary-ascii", maxLength: 40 })
  .map((v) => v.replace(/[\r\n\0]/g, ""));

describe("encodeTrailerFrame, for any trailers", () => {
  test("decodes back to the same name:value pairs, names lower-cased, with a length that counts the block", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(trailerName, trailerValue), { maxLength: 10 }), (trailers) => {
        const encoded = encodeTrailerFrame(trailers);
        assert.equal(encoded[0], 0x80);
        assert.equal(encoded.readUInt32BE(1), encoded.length - 5);
        const block = encoded.subarray(5).toString("latin1");
        const lines = block === "" ? [] : block.slice(0, -2).split("\r\n");
        const decoded = lines.map((line) => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon), line.slice(colon + 1)];
        });
        assert.deepEqual(
          decoded,
          trailers.map(([name, value]) => [name.toLowerCase(), value]),
        );
      }),
      fuzzRuns(),
    );
  });
});
