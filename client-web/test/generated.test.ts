import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "../src/greeter.js";

test("generated messages round-trip through the binary format", () => {
  const bytes = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "world" }));
  assert.equal(fromBinary(HelloRequestSchema, bytes).name, "world");
});
