import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeGrpcTimeout, parseGrpcTimeout, resolveTimeoutMs } from "../src/timeout.js";

test("grpc-timeout is sent in milliseconds", () => {
  assert.equal(encodeGrpcTimeout(1500), "1500m");
  assert.equal(encodeGrpcTimeout(99_999_999), "99999999m");
});

test("grpc-timeout rounds fractions up and never encodes zero", () => {
  assert.equal(encodeGrpcTimeout(0.2), "1m");
  assert.equal(encodeGrpcTimeout(0), "1m");
  assert.equal(encodeGrpcTimeout(12.01), "13m");
});

test("parsing grpc-timeout honours every unit and its case", () => {
  assert.equal(parseGrpcTimeout("250m"), 250);
  assert.equal(parseGrpcTimeout("2S"), 2000);
  assert.equal(parseGrpcTimeout("3M"), 180_000);
  assert.equal(parseGrpcTimeout("1H"), 3_600_000);
  assert.equal(parseGrpcTimeout("1500u"), 1.5);
  assert.equal(parseGrpcTimeout("2000000n"), 2);
});

test("parsing rejects what the spec does not allow", () => {
  for (const value of [null, "", "10s", "123456789m", "-1m", "1.5S", "m", " 1m"]) {
    assert.equal(parseGrpcTimeout(value), undefined, String(value));
  }
});

test("the per-call deadline wins over the transport's default", () => {
  assert.equal(resolveTimeoutMs(100, 5000), 100);
  assert.equal(resolveTimeoutMs(undefined, 5000), 5000);
  assert.equal(resolveTimeoutMs(undefined, undefined), undefined);
});

test("Infinity, or a deadline beyond the 8 digits of milliseconds grpc-timeout carries, means none", () => {
  assert.equal(resolveTimeoutMs(Number.POSITIVE_INFINITY, 5000), undefined);
  assert.equal(resolveTimeoutMs(100_000_000, undefined), undefined);
  assert.equal(resolveTimeoutMs(99_999_999, undefined), 99_999_999);
});

test("as in connect, a deadline of zero or less means none, and disables the default", () => {
  assert.equal(resolveTimeoutMs(0, 5000), undefined);
  assert.equal(resolveTimeoutMs(-5, undefined), undefined);
  assert.equal(resolveTimeoutMs(Number.NaN, 5000), undefined);
});
