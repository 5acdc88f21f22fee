import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Code } from "../src/protocol/status.js";
import {
  effectiveTimeout,
  encodeGrpcTimeout,
  MAX_TIMER_MS,
  parseGrpcTimeout,
} from "../src/protocol/timeout.js";
import { assertGrpcError } from "./support/assert-grpc-error.js";

const MS_PER_UNIT = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 1e-3, n: 1e-6 } as const;

/** Equal up to float rounding (the parsed value of "1u" is 0.001, computed, not written). */
function assertClose(actual: unknown, expected: number, label: string): void {
  assert.equal(typeof actual, "number", label);
  assert.ok(
    Math.abs((actual as number) - expected) <= Math.abs(expected) * 1e-12,
    `${label}: ${actual} ≠ ${expected}`,
  );
}

describe("parseGrpcTimeout", () => {
  test("no header means no deadline", () => {
    assert.equal(parseGrpcTimeout(undefined), undefined);
  });

  test("every unit, case-sensitive: H M S m u n", () => {
    for (const [unit, ms] of Object.entries(MS_PER_UNIT)) {
      assertClose(parseGrpcTimeout(`1${unit}`), ms, `1${unit}`);
      assertClose(parseGrpcTimeout(`250${unit}`), 250 * ms, `250${unit}`);
    }
  });

  test("takes up to 8 digits, leading zeros and zero included", () => {
    assert.equal(parseGrpcTimeout("99999999m"), 99_999_999);
    assert.equal(parseGrpcTimeout("00000001S"), 1000);
    assert.equal(parseGrpcTimeout("0S"), 0);
    assert.equal(parseGrpcTimeout("99999999H"), 99_999_999 * 3_600_000);
  });

  test("rejects malformed values with INTERNAL, quoting the value", () => {
    for (const bad of [
      "10s", // lower-case s is not a unit
      "123456789S", // 9 digits
      "",
      "-1S",
      "+1S",
      "1.5S",
      " 1S",
      "1S ",
      "1 S",
      "S",
      "1",
      "1x",
      "1SS",
      "1ms",
      "0x1S",
      "\uff11S", // a full-width digit
    ]) {
      assertGrpcError(parseGrpcTimeout(bad), Code.INTERNAL, /malformed grpc-timeout/);
      assert.ok((parseGrpcTimeout(bad) as Error).message.includes(JSON.stringify(bad)), bad);
    }
  });
});

describe("encodeGrpcTimeout", () => {
  test("picks the finest unit whose value fits in 8 digits", () => {
    for (const [ms, encoded] of [
      [1, "1000000n"],
      [99.999999, "99999999n"],
      [100, "100000u"],
      [99_999.999, "99999999u"],
      [100_000, "100000m"],
      [99_999_999, "99999999m"],
      [100_000_000, "100000S"],
      [99_999_999_000, "99999999S"],
      [99_999_999_001, "1666667M"],
      [99_999_999 * 60_000, "99999999M"],
      [99_999_999 * 60_000 + 1, "1666667H"],
      [99_999_999 * 3_600_000, "99999999H"],
    ] as const) {
      assert.equal(encodeGrpcTimeout(ms), encoded, `${ms} ms`);
    }
  });

  test("rounds up, so a remaining time above zero never encodes as zero", () => {
    assert.equal(encodeGrpcTimeout(1e-9), "1n");
    assert.equal(encodeGrpcTimeout(0.0000015), "2n");
    assert.equal(encodeGrpcTimeout(100.0000001), "100001u");
  });

  test("does not round up float noise: 0.123 ms is 123000n", () => {
    assert.equal(encodeGrpcTimeout(0.123), "123000n");
  });

  test("an expired deadline is 0n and one beyond 99999999 hours is the largest value", () => {
    assert.equal(encodeGrpcTimeout(0), "0n");
    assert.equal(encodeGrpcTimeout(-5), "0n");
    assert.equal(encodeGrpcTimeout(Number.NaN), "0n");
    assert.equal(encodeGrpcTimeout(1e30), "99999999H");
    assert.equal(encodeGrpcTimeout(Number.POSITIVE_INFINITY), "99999999H");
  });

  test("round trips: parse(encode(ms)) is ms, and encode(parse(value)) is never shorter", () => {
    for (const [unit, ms] of Object.entries(MS_PER_UNIT)) {
      for (const digits of [1, 7, 1000, 12_345_678, 99_999_999]) {
        const value = `${digits}${unit}`;
        const parsed = parseGrpcTimeout(value) as number;
        const reparsed = parseGrpcTimeout(encodeGrpcTimeout(parsed)) as number;
        assertClose(reparsed, digits * ms, value);
        assert.ok(reparsed >= parsed * (1 - 1e-12), value);
      }
    }
    for (const ms of [0.5, 1, 42, 1500, 59_999, 86_400_000]) {
      assertClose(parseGrpcTimeout(encodeGrpcTimeout(ms)), ms, `${ms} ms`);
    }
  });
});

describe("effectiveTimeout", () => {
  test("no deadline and no maximum means no deadline", () => {
    assert.equal(effectiveTimeout(undefined, undefined), undefined);
  });

  test("the client's deadline stands when there is no maximum, or when it is shorter", () => {
    assert.equal(effectiveTimeout(500, undefined), 500);
    assert.equal(effectiveTimeout(50, 100), 50);
    assert.equal(effectiveTimeout(0, 100), 0);
  });

  test("a longer deadline is clamped to the maximum", () => {
    assert.equal(effectiveTimeout(500, 100), 100);
  });

  test("a call without a deadline gets the maximum", () => {
    assert.equal(effectiveTimeout(undefined, 100), 100);
  });

  test("never exceeds what a Node timer can wait", () => {
    assert.equal(effectiveTimeout(99_999_999 * 3_600_000, undefined), MAX_TIMER_MS);
    assert.equal(effectiveTimeout(undefined, 2 ** 40), MAX_TIMER_MS);
    assert.equal(MAX_TIMER_MS, 2_147_483_647);
  });
});
