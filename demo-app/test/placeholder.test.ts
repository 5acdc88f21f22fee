import assert from "node:assert/strict";
import { test } from "node:test";

test("demo-app placeholder", () => assert.ok(true));
