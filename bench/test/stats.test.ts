import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { percentile, spread } from "../stats.js";

describe("stats", () => {
  it("takes nearest-rank percentiles", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 0.5), 50);
    assert.equal(percentile(sorted, 0.99), 99);
    assert.equal(percentile([7], 0.99), 7);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });

  it("reports median and range, ignoring values that are not finite", () => {
    assert.deepEqual(spread([3, 1, Number.NaN, 2]), { median: 2, min: 1, max: 3 });
    assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  });
});
