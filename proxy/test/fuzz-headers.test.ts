// Property-based tests of the header-value codecs: grpc-timeout, grpc-message, status mapping, content types.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  formatWebContentType,
  parseWebContentType,
  responseContentType,
} from "../src/protocol/content-type.js";
import {
  Code,
  codeFromHttpStatus,
  codeFromRstCode,
  decodeGrpcMessage,
  encodeGrpcMessage,
  GrpcError,
  messageFromNonGrpcReply,
} from "../src/protocol/status.js";
import {
  effectiveTimeout,
  encodeGrpcTimeout,
  MAX_TIMER_MS,
  parseGrpcTimeout,
} from "../src/protocol/timeout.js";
import { parseDuration } from "../src/settings/durations.js";
import { fuzzRuns } from "./support/fuzz.js";

const CODES = new Set<number>(Object.values(Code));

/** Mostly timeout-shaped strings (digits and unit letters), some anything. */
const timeoutish = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."0123456789HMSmunhs .-+e"), maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
);

describe("grpc-timeout, for any value", () => {
  test("parses to a finite, non-negative number of ms exactly when it is 1-8 digits and a unit, else INTERNAL", () => {
    fc.assert(
      fc.property(timeoutish, (value) => {
        const parsed = parseGrpcTimeout(value);
        if (/^[0-9]{1,8}[HMSmun]$/.test(value)) {
          assert.equal(typeof parsed, "number");
          assert.ok(Number.isFinite(parsed) && (parsed as number) >= 0, String(parsed));
        } else {
          assert.ok(parsed instanceof GrpcError, `${JSON.stringify(value)} gave ${String(parsed)}`);
          assert.equal(parsed.code, Code.INTERNAL);
        }
      }),
      fuzzRuns(1000),
    );
  });

  test("encode then parse gives back at least the time left, and at most 1/10,000 more", () => {
    const maxEncodable = 99_999_999 * 3_600_000;
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: maxEncodable, noNaN: true }), (ms) => {
        const encoded = encodeGrpcTimeout(ms);
        const parsed = parseGrpcTimeout(encoded);
        assert.equal(typeof parsed, "number", encoded);
        const back = parsed as number;
        // The encoder forgives float noise of a millionth of a unit; an hour's millionth is 3.6 ms.
        assert.ok(back >= ms * (1 - 1e-9) - 3.6, `${ms} ms → ${encoded} → ${back} ms`);
        assert.ok(back <= ms + Math.max(1e-6, ms * 1e-4), `${ms} ms → ${encoded} → ${back} ms`);
      }),
      fuzzRuns(1000),
    );
  });

  test("an expired or absurd remaining time still encodes to a valid grpc-timeout", () => {
    fc.assert(
      fc.property(fc.double(), (ms) => {
        assert.match(encodeGrpcTimeout(ms), /^[0-9]{1,8}[HMSmun]$/);
      }),
      fuzzRuns(),
    );
  });

  test("the enforced deadline is never above the request, the clamp or a Node timer's range", () => {
    const optionalMs = fc.option(fc.double({ min: 0, max: 1e15, noNaN: true }), { nil: undefined });
    fc.assert(
      fc.property(optionalMs, optionalMs, (requested, max) => {
        const effective = effectiveTimeout(requested, max);
        if (requested === undefined && max === undefined) return assert.equal(effective, undefined);
        assert.ok(effective !== undefined && effective >= 0 && effective <= MAX_TIMER_MS);
        if (requested !== undefined) assert.ok(effective <= requested);
        if (max !== undefined) assert.ok(effective <= max);
      }),
      fuzzRuns(),
    );
  });

  const unit = fc.constantFrom("", "ms", "s", "m", "h");
  test("a configured duration is undefined or a number of ms a timer can wait (not NaN, Infinity or > 2^31-1)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(..."0123456789.mshx "), maxLength: 20 }),
          // Digits enough to overflow a double.
          fc
            .tuple(
              fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 300, maxLength: 400 }),
              unit,
            )
            .map(([digits, u]) => digits + u),
          fc.string({ unit: "binary", maxLength: 20 }),
        ),
        (value) => {
          const ms = parseDuration(value);
          if (ms !== undefined) assert.ok(ms >= 0 && ms <= MAX_TIMER_MS, `${JSON.stringify(value)} → ${ms}`);
        },
      ),
      fuzzRuns(1000),
    );
  });
});

describe("grpc-message and status codes, for any input", () => {
  test("any text percent-encodes to printable ASCII and decodes back to itself", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (message) => {
        const encoded = encodeGrpcMessage(message);
        assert.match(encoded, /^[\x20-\x7e]*$/);
        assert.equal(decodeGrpcMessage(encoded), message);
      }),
      fuzzRuns(1000),
    );
  });

  test("any received grpc-message decodes without throwing", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."%0aF9gz \u00ff\u20ac"), maxLength: 30 }), (value) => {
        assert.equal(typeof decodeGrpcMessage(value), "string");
      }),
      fuzzRuns(),
    );
  });

  test("any HTTP status or RST_STREAM code maps to a defined gRPC code", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 2 ** 32 }), (n) => {
        assert.ok(CODES.has(codeFromHttpStatus(n)));
        assert.ok(CODES.has(codeFromRstCode(n)));
      }),
      fuzzRuns(),
    );
  });

  test("a non-gRPC reply's message is bounded, and whole UTF-8 characters only when the body is text", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 300 }).map((s) => ({ body: Buffer.from(s), text: true })),
          fc.uint8Array({ maxLength: 300 }).map((b) => ({ body: Buffer.from(b), text: false })),
        ),
        fc.integer({ min: 0, max: 200 }),
        (status, contentType, { body, text }, limit) => {
          const message = messageFromNonGrpcReply(status, contentType, body, limit);
          const summary = messageFromNonGrpcReply(status, contentType, Buffer.alloc(0), limit);
          assert.ok(message.startsWith(summary));
          // ": " + at most `limit` bytes of body (decoding can only turn a bad byte into a 3-byte U+FFFD) + "..."
          assert.ok(Buffer.byteLength(message) <= Buffer.byteLength(summary) + 2 + 3 * limit + 3);
          if (text) assert.ok(!message.includes("\ufffd"), "no character cut in half");
        },
      ),
      fuzzRuns(),
    );
  });
});

/** Content types near the gRPC-Web ones, in any case, with parameters and noise. */
const contentTypeish = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        "application/grpc-web",
        "application/grpc-web-text",
        "Application/GRPC-Web",
        "application/grpc",
      ),
      fc.constantFrom("", "+proto", "+json", "+", "+x y", "-text", "+PROTO", "x"),
      fc.constantFrom("", "; charset=utf-8", ";", " ; version=1"),
    )
    .map((parts) => parts.join("")),
  fc.string({ unit: "binary", maxLength: 40 }),
);

describe("content types, for any header value", () => {
  test("a request content-type is refused or classified, and a classified one formats back to itself", () => {
    fc.assert(
      fc.property(contentTypeish, (value) => {
        const ct = parseWebContentType(value);
        if (ct === undefined) return;
        assert.ok(ct.suffix === "" || ct.suffix.startsWith("+"));
        assert.deepEqual(parseWebContentType(formatWebContentType(ct)), ct);
      }),
      fuzzRuns(1000),
    );
  });

  test("any Accept header chooses a response type that is itself a valid gRPC-Web type", () => {
    fc.assert(
      fc.property(
        fc.array(contentTypeish, { maxLength: 4 }).map((entries) => entries.join(",")),
        fc.boolean(),
        fc.constantFrom("", "+proto", "+json"),
        (accept, text, suffix) => {
          const chosen = responseContentType(accept, { text, suffix });
          assert.deepEqual(parseWebContentType(formatWebContentType(chosen)), chosen);
        },
      ),
      fuzzRuns(),
    );
  });
});
