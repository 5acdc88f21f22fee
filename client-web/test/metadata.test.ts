import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { readBinaryMetadata, setMetadata } from "../src/metadata.js";

test("text metadata is set as is, and later entries replace earlier ones", () => {
  const headers = setMetadata(setMetadata(new Headers(), { "x-user": "ada", "x-team": "a" }), {
    "x-team": "b",
  });
  assert.deepEqual(
    [...headers],
    [
      ["x-team", "b"],
      ["x-user", "ada"],
    ],
  );
});

test("binary metadata is base64 without padding", () => {
  const headers = setMetadata(new Headers(), { "x-id-bin": new Uint8Array([0xff, 0x00, 0x01, 0x02]) });
  assert.equal(headers.get("x-id-bin"), "/wABAg");
});

test("bytes under a key without -bin are refused with INVALID_ARGUMENT", () => {
  assert.throws(
    () => setMetadata(new Headers(), { "x-id": new Uint8Array([1]) }),
    (error) =>
      error instanceof ConnectError && error.code === Code.InvalidArgument && /x-id/.test(error.message),
  );
});

test("the -bin suffix is matched regardless of case", () => {
  assert.equal(setMetadata(new Headers(), { "X-Id-BIN": new Uint8Array([1, 2, 3]) }).get("x-id-bin"), "AQID");
});

test("binary response metadata is decoded from padded and unpadded base64", () => {
  const headers = new Headers({ "x-a-bin": "AQI=", "x-b-bin": "AQI" });
  assert.deepEqual(readBinaryMetadata(headers, "x-a-bin"), [new Uint8Array([1, 2])]);
  assert.deepEqual(readBinaryMetadata(headers, "x-b-bin"), [new Uint8Array([1, 2])]);
});

test("repeated binary values, joined by commas, come back one by one", () => {
  const headers = new Headers();
  headers.append("x-ids-bin", "AQ==");
  headers.append("x-ids-bin", "AgM");
  assert.deepEqual(readBinaryMetadata(headers, "x-ids-bin"), [new Uint8Array([1]), new Uint8Array([2, 3])]);
});

test("an absent binary key reads as no values", () => {
  assert.deepEqual(readBinaryMetadata(new Headers(), "x-none-bin"), []);
});
