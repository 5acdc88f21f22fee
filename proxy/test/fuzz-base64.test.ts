// Property-based tests of grpc-web-text decoding: padding wherever a flush may put it, chunks cut anywhere,
// and garbage that must always end in a defined gRPC error.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Base64Decoder } from "../src/protocol/base64.js";
import { FrameBoundaryTracker, RequestBodyReader } from "../src/protocol/frame.js";
import { Code, GrpcError } from "../src/protocol/status.js";
import { decodeBase64Chunks as decode } from "./support/base64-chunks.js";
import { frame } from "./support/chunks.js";
import {
  base64ishText,
  base64Text,
  cutAt,
  cuts,
  encodeFrames,
  frameEnds,
  fuzzRuns,
  messageFrame,
} from "./support/fuzz.js";

const QUANTUM = /^(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;

/** The grpc-web-text rules, written out plainly: whitespace ignored, whole padded quanta, each decoded on its own. */
function referenceDecode(text: Buffer): Buffer | "error" {
  const chars = text.toString("latin1").replace(/[\r\n\t ]/g, "");
  if (chars.length % 4 !== 0) return "error";
  const quanta: Buffer[] = [];
  for (let i = 0; i < chars.length; i += 4) {
    const quantum = chars.slice(i, i + 4);
    if (!QUANTUM.test(quantum)) return "error";
    quanta.push(Buffer.from(quantum, "base64"));
  }
  return Buffer.concat(quanta);
}

const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b));

describe("Base64Decoder, for any input", () => {
  test("any bytes, base64-encoded in separately padded segments with whitespace anywhere, decode back at any chunking", () => {
    fc.assert(
      fc.property(bytes, cuts, cuts, cuts, (original, segments, spaces, at) => {
        const text = base64Text(original, segments, spaces);
        assert.deepEqual(decode(cutAt(text, at)), original);
      }),
      fuzzRuns(),
    );
  });

  test("the response encoding (each upstream chunk base64-encoded on its own) round-trips", () => {
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 6 }), cuts, (chunks, at) => {
        // WebResponse.write sends chunk.toString("base64") for each chunk of upstream DATA.
        const text = Buffer.from(chunks.map((chunk) => chunk.toString("base64")).join(""), "latin1");
        assert.deepEqual(decode(cutAt(text, at)), Buffer.concat(chunks));
      }),
      fuzzRuns(),
    );
  });

  test("frames sent as text come out as the same frames, on the same boundaries", () => {
    fc.assert(
      fc.property(fc.array(messageFrame, { maxLength: 6 }), cuts, cuts, (frames, segments, at) => {
        const binary = encodeFrames(frames);
        const decoder = new Base64Decoder();
        const tracker = new FrameBoundaryTracker();
        const ends = frameEnds(frames);
        let offset = 0;
        for (const chunk of cutAt(base64Text(binary, segments, []), at)) {
          const decoded = decoder.push(chunk);
          assert.ok(Buffer.isBuffer(decoded));
          assert.equal(tracker.push(decoded), undefined);
          offset += decoded.length;
          assert.equal(tracker.atBoundary, offset === 0 || ends.includes(offset));
        }
        assert.equal(decoder.end(), undefined);
        assert.equal(offset, binary.length);
        assert.equal(tracker.frames, frames.length);
      }),
      fuzzRuns(),
    );
  });

  test("a request message sent as text reaches the body reader whole", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), cuts, cuts, (payload, segments, at) => {
        const body = frame(0, Buffer.from(payload));
        const decoder = new Base64Decoder();
        const reader = new RequestBodyReader({ maxMessageBytes: 300, compressed: false });
        for (const chunk of cutAt(base64Text(body, segments, []), at)) {
          const decoded = decoder.push(chunk);
          assert.ok(Buffer.isBuffer(decoded));
          assert.equal(reader.push(decoded), undefined);
        }
        assert.equal(decoder.end(), undefined);
        assert.deepEqual(reader.end(), body);
      }),
      fuzzRuns(),
    );
  });

  test("near-base64 text decodes as the plain rules say, or is INTERNAL, the same at any chunking", () => {
    fc.assert(
      fc.property(base64ishText, cuts, (text, at) => {
        const whole = decode([text]);
        const chunked = decode(cutAt(text, at));
        const expected = referenceDecode(text);
        for (const result of [whole, chunked]) {
          if (expected === "error") {
            assert.ok(
              result instanceof GrpcError,
              `expected an error for ${JSON.stringify(text.toString("latin1"))}`,
            );
            assert.equal(result.code, Code.INTERNAL);
          } else {
            assert.deepEqual(result, expected);
          }
        }
      }),
      fuzzRuns(2000),
    );
  });

  test("any bytes at all never throw: bytes or an INTERNAL error, and then the same error for good", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }), (chunks) => {
        const decoder = new Base64Decoder();
        let error: GrpcError | undefined;
        for (const chunk of chunks) {
          const result = decoder.push(Buffer.from(chunk));
          if (error !== undefined) assert.equal(result, error);
          else if (result instanceof GrpcError) error = result;
        }
        const end = decoder.end();
        if (error !== undefined) assert.equal(end, error);
        for (const e of [error, end]) if (e !== undefined) assert.equal(e.code, Code.INTERNAL);
      }),
      fuzzRuns(1000),
    );
  });
});
