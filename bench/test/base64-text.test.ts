import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Base64TextDecoder } from "../wire/base64-text.js";

describe("Base64TextDecoder", () => {
  const parts = [Buffer.from([0, 0, 0, 0, 1, 0x61]), Buffer.from([0x80, 0, 0, 0, 2, 0x62, 0x63, 0x64])];
  // Each part encoded on its own: the first ends in "==" padding in the middle of the body.
  const text = parts.map((part) => part.toString("base64")).join("");

  it("decodes padding between separately encoded chunks, split at every position", () => {
    for (let split = 0; split <= text.length; split++) {
      const decoder = new Base64TextDecoder();
      const decoded = Buffer.concat([decoder.push(text.slice(0, split)), decoder.push(text.slice(split))]);
      assert.deepEqual(decoded, Buffer.concat(parts), `split at ${split}`);
      assert.equal(decoder.complete, true);
    }
  });

  it("decodes one continuous encoding fed a character at a time", () => {
    const whole = Buffer.concat(parts);
    const decoder = new Base64TextDecoder();
    const decoded = Buffer.concat([...whole.toString("base64")].map((char) => decoder.push(char)));
    assert.deepEqual(decoded, whole);
  });

  it("reports a body that ends inside a 4-character group", () => {
    const decoder = new Base64TextDecoder();
    decoder.push("AAAA" + "AA");
    assert.equal(decoder.complete, false);
  });
});
