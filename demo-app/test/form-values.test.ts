import assert from "node:assert/strict";
import { test } from "node:test";
import { metadataFromRows, parseDeadline } from "../src/web/form-values.js";

test("an empty deadline means none; a positive whole number is milliseconds", () => {
  assert.equal(parseDeadline("  "), undefined);
  assert.equal(parseDeadline(" 100 "), 100);
});

test("a deadline that is not a positive whole number is refused with the value it got", () => {
  for (const text of ["0", "-5", "1.5", "abc", "1e3"]) {
    const result = parseDeadline(text);
    assert.ok(result instanceof Error, text);
    assert.match(result.message, new RegExp(`got "${text.replace(".", "\\.")}"`));
  }
});

test("metadata rows: keys trimmed and lower-cased, values trimmed, rows without a key dropped", () => {
  const rows = [
    [" X-User ", " ada "],
    ["", "orphan value"],
    ["x-reply-count", "3"],
  ] as const;
  assert.deepEqual(metadataFromRows(rows), [
    ["x-user", "ada"],
    ["x-reply-count", "3"],
  ]);
});
