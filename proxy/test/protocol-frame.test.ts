import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  encodeTrailerFrame,
  FLAG_COMPRESSED,
  FLAG_TRAILER,
  FrameBoundaryTracker,
  RequestBodyReader,
} from "../src/protocol/frame.js";
import { Code, type GrpcError } from "../src/protocol/status.js";
import { assertGrpcError } from "./support/assert-grpc-error.js";
import { everySplit, frame, oneByteAtATime } from "./support/chunks.js";

const LIMIT = 1024;
const plain = () => new RequestBodyReader({ maxMessageBytes: LIMIT, compressed: false });

/** Pushes every chunk, stopping at the first error; returns that error and the index of the chunk that caused it. */
function pushAll(reader: RequestBodyReader, chunks: Buffer[]): { error: GrpcError | undefined; at: number } {
  for (const [at, chunk] of chunks.entries()) {
    const error = reader.push(chunk);
    if (error) return { error, at };
  }
  return { error: undefined, at: -1 };
}

describe("RequestBodyReader", () => {
  const message = frame(0, "hello, gRPC-Web");

  test("a body in one chunk comes back as that very Buffer, not a copy", () => {
    const reader = plain();
    assert.equal(reader.push(message), undefined);
    assert.equal(reader.end(), message);
  });

  test("a body fed one byte at a time comes back whole", () => {
    const reader = plain();
    assert.equal(pushAll(reader, oneByteAtATime(message)).error, undefined);
    assert.deepEqual(reader.end(), message);
  });

  test("a body split at every point comes back whole", () => {
    for (const [at, chunks] of everySplit(message)) {
      const reader = plain();
      assert.equal(pushAll(reader, chunks).error, undefined, `split at ${at}`);
      assert.deepEqual(reader.end(), message, `split at ${at}`);
    }
  });

  test("an empty body (zero frames) is allowed and forwarded as empty", () => {
    const reader = plain();
    assert.equal(reader.push(Buffer.alloc(0)), undefined);
    const body = reader.end();
    assert.ok(Buffer.isBuffer(body));
    assert.equal(body.length, 0);
  });

  test("a zero-length message is one complete frame", () => {
    const empty = frame(0, "");
    const reader = plain();
    assert.equal(pushAll(reader, oneByteAtATime(empty)).error, undefined);
    assert.deepEqual(reader.end(), empty);
  });

  test("a message of exactly maxMessageBytes is accepted", () => {
    const reader = plain();
    const largest = frame(0, Buffer.alloc(LIMIT, 7));
    assert.equal(reader.push(largest), undefined);
    assert.equal(reader.end(), largest);
  });

  test("a length above maxMessageBytes is RESOURCE_EXHAUSTED naming both numbers, from the header alone", () => {
    const reader = plain();
    const header = frame(0, Buffer.alloc(LIMIT + 1)).subarray(0, 5);
    assertGrpcError(reader.push(header), Code.RESOURCE_EXHAUSTED, new RegExp(`${LIMIT + 1}.*${LIMIT}`));
  });

  test("a 2^32-1 length is rejected as soon as the 5 header bytes arrive, one at a time", () => {
    const reader = plain();
    const header = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
    const { error, at } = pushAll(reader, oneByteAtATime(header));
    assert.equal(at, 4);
    assertGrpcError(error, Code.RESOURCE_EXHAUSTED, /4294967295.*1024/);
  });

  test("the trailer flag from a client is INTERNAL, for 0x80 and 0x81", () => {
    for (const flags of [FLAG_TRAILER, FLAG_TRAILER | FLAG_COMPRESSED]) {
      const reader = new RequestBodyReader({ maxMessageBytes: LIMIT, compressed: true });
      const { error, at } = pushAll(reader, oneByteAtATime(frame(flags, "x")));
      assert.equal(at, 4, "detected on the fifth header byte, before the payload");
      assertGrpcError(error, Code.INTERNAL, /client frames must not carry the trailer flag/);
    }
  });

  test("the compressed flag without grpc-encoding is INTERNAL", () => {
    const reader = plain();
    assertGrpcError(reader.push(frame(FLAG_COMPRESSED, "x")), Code.INTERNAL, /compressed flag/);
  });

  test("the compressed flag with grpc-encoding is accepted", () => {
    const reader = new RequestBodyReader({ maxMessageBytes: LIMIT, compressed: true });
    const compressed = frame(FLAG_COMPRESSED, "zz");
    assert.equal(reader.push(compressed), undefined);
    assert.equal(reader.end(), compressed);
  });

  test("unknown flag bits are INTERNAL", () => {
    for (const flags of [0x02, 0x40, 0x7e]) {
      assertGrpcError(plain().push(frame(flags, "x")), Code.INTERNAL, /unknown flags/);
    }
  });

  test("a second frame is UNIMPLEMENTED, reported on the push carrying its first byte, at every split", () => {
    const first = frame(0, "one");
    const twoFrames = Buffer.concat([first, frame(0, "two")]);
    for (const [at, chunks] of everySplit(twoFrames)) {
      const reader = plain();
      const result = pushAll(reader, chunks);
      assert.equal(result.at, at > first.length ? 0 : 1, `split at ${at}`);
      assertGrpcError(result.error, Code.UNIMPLEMENTED, /client-streaming and bidi calls cannot be carried/);
    }
  });

  test("a second frame fed one byte at a time is caught at its first byte", () => {
    const first = frame(0, "");
    const { error, at } = pushAll(plain(), oneByteAtATime(Buffer.concat([first, frame(0, "")])));
    assert.equal(at, first.length);
    assertGrpcError(error, Code.UNIMPLEMENTED, /HTTP\/1\.1 fetch/);
  });

  test("a body that ends inside the header is INTERNAL truncated, at every header length", () => {
    for (let length = 1; length < 5; length++) {
      const reader = plain();
      assert.equal(reader.push(message.subarray(0, length)), undefined);
      assertGrpcError(reader.end(), Code.INTERNAL, /truncated/);
    }
  });

  test("a body that ends inside the payload is INTERNAL truncated", () => {
    for (let length = 5; length < message.length; length++) {
      const reader = plain();
      assert.equal(pushAll(reader, oneByteAtATime(message.subarray(0, length))).error, undefined);
      assertGrpcError(reader.end(), Code.INTERNAL, /truncated/);
    }
  });

  test("once bad, a reader keeps answering with the same error", () => {
    const reader = plain();
    const error = reader.push(frame(FLAG_TRAILER, ""));
    assertGrpcError(error, Code.INTERNAL);
    assert.equal(reader.push(frame(0, "")), error);
    assert.equal(reader.end(), error);
  });
});

describe("FrameBoundaryTracker", () => {
  const frames = [frame(0, "first"), frame(0, ""), frame(FLAG_COMPRESSED, "third one")];
  const stream = Buffer.concat(frames);
  /** Offsets at which a frame ends, each with the number of frames complete there. */
  const boundaries = new Map<number, number>([[0, 0]]);
  frames.reduce((end, each, index) => {
    boundaries.set(end + each.length, index + 1);
    return end + each.length;
  }, 0);

  test("starts on a boundary with no frames", () => {
    const tracker = new FrameBoundaryTracker();
    assert.equal(tracker.atBoundary, true);
    assert.equal(tracker.frames, 0);
  });

  test("fed one byte at a time, is on a boundary exactly where frames end", () => {
    const tracker = new FrameBoundaryTracker();
    let complete = 0;
    for (const [index, byte] of oneByteAtATime(stream).entries()) {
      assert.equal(tracker.push(byte), undefined);
      const offset = index + 1;
      complete = boundaries.get(offset) ?? complete;
      assert.equal(tracker.atBoundary, boundaries.has(offset), `after byte ${offset}`);
      assert.equal(tracker.frames, complete, `after byte ${offset}`);
    }
    assert.equal(tracker.frames, 3);
  });

  test("split at every point, knows after the first half whether it ended on a boundary", () => {
    for (const [at, [head, tail]] of everySplit(stream)) {
      const tracker = new FrameBoundaryTracker();
      assert.equal(tracker.push(head), undefined);
      assert.equal(tracker.atBoundary, boundaries.has(at), `split at ${at}`);
      assert.equal(tracker.push(tail), undefined);
      assert.equal(tracker.atBoundary, true);
      assert.equal(tracker.frames, 3);
    }
  });

  test("a payload length of 2^31 or more is not read as negative", () => {
    const tracker = new FrameBoundaryTracker();
    assert.equal(tracker.push(Buffer.from([0, 0x80, 0, 0, 0])), undefined);
    assert.equal(tracker.atBoundary, false);
    assert.equal(tracker.push(Buffer.alloc(1000)), undefined);
    assert.equal(tracker.atBoundary, false);
    assert.equal(tracker.frames, 0);
  });

  test("a trailer-flagged frame inside upstream DATA is INTERNAL, at its header, and stays an error", () => {
    const tracker = new FrameBoundaryTracker();
    assert.equal(tracker.push(frames[0] as Buffer), undefined);
    const bytes = oneByteAtATime(encodeTrailerFrame([["grpc-status", "0"]]));
    const results = bytes.map((byte) => tracker.push(byte));
    assert.deepEqual(results.slice(0, 4), [undefined, undefined, undefined, undefined]);
    assertGrpcError(results[4], Code.INTERNAL, /trailer flag/);
    assert.ok(results.slice(5).every((result) => result === results[4]));
  });
});

describe("encodeTrailerFrame", () => {
  test("is 0x80, a big-endian length and name:value CRLF lines without a blank line", () => {
    const block = "grpc-status:0\r\ngrpc-message:all%20good\r\n";
    const expected = Buffer.concat([Buffer.from([0x80, 0, 0, 0, block.length]), Buffer.from(block)]);
    assert.deepEqual(
      encodeTrailerFrame([
        ["grpc-status", "0"],
        ["grpc-message", "all%20good"],
      ]),
      expected,
    );
  });

  test("lower-cases names and keeps values as written", () => {
    assert.equal(
      encodeTrailerFrame([
        ["Grpc-Status", "5"],
        ["X-Custom-Bin", "AbC="],
      ])
        .subarray(5)
        .toString(),
      "grpc-status:5\r\nx-custom-bin:AbC=\r\n",
    );
  });

  test("with no trailers is the bare 5-byte header", () => {
    assert.deepEqual(encodeTrailerFrame([]), Buffer.from([0x80, 0, 0, 0, 0]));
  });

  test("writes the length big-endian past one byte", () => {
    const value = "v".repeat(300);
    const encoded = encodeTrailerFrame([["x", value]]);
    assert.equal(encoded.readUInt32BE(1), 2 + 300 + 2);
    assert.equal(encoded.length, 5 + 304);
  });

  test("writes node's latin1 header strings back as the bytes they came from", () => {
    const encoded = encodeTrailerFrame([["x", "caf\u00e9"]]);
    assert.deepEqual(encoded.subarray(5), Buffer.from([0x78, 0x3a, 0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]));
  });
});
