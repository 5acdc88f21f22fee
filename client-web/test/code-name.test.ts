import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import { codeName } from "../src/index.js";

test("code names are the canonical gRPC ones", () => {
  assert.equal(codeName(0), "OK");
  assert.equal(codeName(Code.Canceled), "CANCELLED");
  assert.equal(codeName(Code.DeadlineExceeded), "DEADLINE_EXCEEDED");
  assert.equal(codeName(Code.Unauthenticated), "UNAUTHENTICATED");
  assert.equal(codeName(42), "CODE_42");
});
