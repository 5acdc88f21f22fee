import assert from "node:assert/strict";
import { GrpcError } from "../../src/protocol/status.js";

/** Asserts that `value` is a GrpcError with `code` and, when given, a message matching `message`. */
export function assertGrpcError(value: unknown, code: number, message?: RegExp): asserts value is GrpcError {
  assert.ok(value instanceof GrpcError, `expected a GrpcError, got ${String(value)}`);
  assert.equal(value.code, code, value.message);
  if (message) assert.match(value.message, message);
}
