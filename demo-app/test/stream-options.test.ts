import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { streamOptions } from "../src/greeter/stream-options.js";

test("without metadata a stream is 5 replies 500 ms apart", () => {
  assert.deepEqual(streamOptions(new Headers()), { count: 5, delayMs: 500 });
});

test("x-reply-count and x-reply-delay-ms set the pacing, surrounding spaces allowed", () => {
  const headers = new Headers({ "x-reply-count": " 20 ", "x-reply-delay-ms": "0" });
  assert.deepEqual(streamOptions(headers), { count: 20, delayMs: 0 });
});

for (const [key, value] of [
  ["x-reply-count", "0"],
  ["x-reply-count", "21"],
  ["x-reply-count", "2.5"],
  ["x-reply-count", ""],
  ["x-reply-delay-ms", "-1"],
  ["x-reply-delay-ms", "10001"],
  ["x-reply-delay-ms", "1e3"],
] as const) {
  test(`${key}: "${value}" is INVALID_ARGUMENT`, () => {
    assert.throws(
      () => streamOptions(new Headers({ [key]: value })),
      (error: unknown) =>
        error instanceof ConnectError &&
        error.code === Code.InvalidArgument &&
        error.rawMessage.includes(key),
    );
  });
}
