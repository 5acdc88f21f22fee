import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Base64Decoder } from "../src/protocol/base64.js";
import { FrameBoundaryTracker } from "../src/protocol/frame.js";
import { Code } from "../src/protocol/status.js";
import { assertGrpcError } from "./support/assert-grpc-error.js";
import { decodeBase64Chunks as decode } from "./support/base64-chunks.js";
import { everySplit, frame, oneByteAtATime } from "./support/chunks.js";

const ascii = (text: string) => Buffer.from(text, "latin1");

/** Each frame encoded on its own, so each base64 segment carries its own padding, as grpc-web clients flush. */
const twoFrames = [frame(0, "ab"), frame(0, "hello")];
const separatelyPadded = ascii(twoFrames.map((each) => each.toString("base64")).join(""));

describe("Base64Decoder", () => {
  test("separately padded segments decode to all their bytes (Buffer.from stops at the first '=')", () => {
    assert.deepEqual(decode([ascii("AQI=AwQFBg==")]), Buffer.from([1, 2, 3, 4, 5, 6]));
  });

  test("padding between frames keeps both frames, one byte at a time and at every split", () => {
    assert.match(separatelyPadded.toString(), /=.+/, "the first segment is padded mid-stream");
    const expected = Buffer.concat(twoFrames);
    assert.deepEqual(decode(oneByteAtATime(separatelyPadded)), expected);
    for (const [at, chunks] of everySplit(separatelyPadded)) {
      assert.deepEqual(decode(chunks), expected, `split at ${at}`);
    }
  });

  test("the decoded frames are both seen by the frame tracker", () => {
    const decoded = decode([separatelyPadded]);
    assert.ok(Buffer.isBuffer(decoded));
    const tracker = new FrameBoundaryTracker();
    assert.equal(tracker.push(decoded), undefined);
    assert.equal(tracker.frames, 2);
  });

  test("the middle-padded body that @grpc-web/middleware truncated decodes whole", () => {
    assert.deepEqual(
      decode([ascii("AAAAAAA=AAAAAAFB")]),
      Buffer.concat([frame(0, ""), frame(0, Buffer.from([0x41]))]),
    );
  });

  test("an unpadded stream decodes at every split, including splits inside a quantum", () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = ascii(bytes.toString("base64"));
    for (const [at, chunks] of everySplit(text)) assert.deepEqual(decode(chunks), bytes, `split at ${at}`);
  });

  test("a chunk of whole quanta is decoded at once, and a partial quantum waits for the next chunk", () => {
    const decoder = new Base64Decoder();
    assert.deepEqual(decoder.push(ascii("AQIDBA")), Buffer.from([1, 2, 3]));
    assert.deepEqual(decoder.push(ascii("==")), Buffer.from([4]));
    assert.equal(decoder.end(), undefined);
  });

  test("a push with less than a quantum yields no bytes yet", () => {
    const decoder = new Base64Decoder();
    assert.equal((decoder.push(ascii("AQ")) as Buffer).length, 0);
    assert.equal((decoder.push(Buffer.alloc(0)) as Buffer).length, 0);
    assert.deepEqual(decoder.push(ascii("I=")), Buffer.from([1, 2]));
  });

  test("CR, LF, tab and space are ignored anywhere, padding included", () => {
    for (const text of ["AQ\r\nI=", " AQI=", "AQI=\r\n", "A Q I =", "AQ=\n=", "\tAQ==\t"]) {
      const expected = text.includes("I") ? [1, 2] : [1];
      assert.deepEqual(decode([ascii(text)]), Buffer.from(expected), JSON.stringify(text));
      assert.deepEqual(decode(oneByteAtATime(ascii(text))), Buffer.from(expected), JSON.stringify(text));
    }
  });

  test("a byte outside the base64 alphabet is INTERNAL naming the byte", () => {
    for (const [text, byte] of [
      ["AQ-_", "2d"],
      ["AQ_A", "5f"],
      ["AQ!A", "21"],
      ["AQ.A", "2e"],
      ["AQ\0A", "00"],
      ["AQ\u00ffA", "ff"],
    ] as const) {
      assertGrpcError(decode([ascii(text)]), Code.INTERNAL, new RegExp(`0x${byte}`));
    }
  });

  test("a bad byte split from the rest of its quantum is still caught", () => {
    assertGrpcError(decode(oneByteAtATime(ascii("AQIDB!=="))), Code.INTERNAL, /not base64/);
  });

  test("padding where a quantum cannot have it is INTERNAL", () => {
    for (const text of ["=AAA", "A===", "AQ=A", "AQI==AAA", "AQ==A=AA", "===="]) {
      assertGrpcError(decode([ascii(text)]), Code.INTERNAL, /padding/);
      assertGrpcError(decode(oneByteAtATime(ascii(text))), Code.INTERNAL, /padding/);
    }
  });

  test("a body ending with 1 to 3 characters of a quantum is INTERNAL: padding is mandatory", () => {
    for (const text of ["A", "AQ", "AQI", "AQ=", "AQIDB", "AQI=A", "AQI=="]) {
      assertGrpcError(decode([ascii(text)]), Code.INTERNAL, /padded/);
    }
  });

  test("an empty body decodes to nothing", () => {
    assert.deepEqual(decode([]), Buffer.alloc(0));
    assert.deepEqual(decode([Buffer.alloc(0)]), Buffer.alloc(0));
  });

  test("once bad, a decoder keeps answering with the same error", () => {
    const decoder = new Base64Decoder();
    const error = decoder.push(ascii("A!AA"));
    assertGrpcError(error, Code.INTERNAL);
    assert.equal(decoder.push(ascii("AQI=")), error);
    assert.equal(decoder.end(), error);
  });

  test("a large body in uneven chunks decodes exactly", () => {
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    const text = ascii(bytes.toString("base64"));
    const chunks: Buffer[] = [];
    for (let at = 0, size = 1; at < text.length; at += size, size = (size * 31 + 7) % 4099 || 1) {
      chunks.push(text.subarray(at, at + size));
    }
    assert.deepEqual(decode(chunks), bytes);
  });
});
