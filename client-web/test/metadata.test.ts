import assert from "node:assert/strict";
import { test } from "node:test";
import { readBinaryMetadata } from "../src/index.js";

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
