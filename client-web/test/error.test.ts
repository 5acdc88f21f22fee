import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeName, GrpcWebError, toGrpcWebError } from "../src/error.js";
import { HelloReplySchema, HelloRequestSchema } from "../src/index.js";

test("code names are the canonical gRPC ones", () => {
  assert.equal(codeName(0), "OK");
  assert.equal(codeName(Code.Canceled), "CANCELLED");
  assert.equal(codeName(Code.DeadlineExceeded), "DEADLINE_EXCEEDED");
  assert.equal(codeName(Code.Unauthenticated), "UNAUTHENTICATED");
  assert.equal(codeName(42), "CODE_42");
});

test("the error shows code name and message, and keeps both apart", () => {
  const error = new GrpcWebError(Code.NotFound, "no such greeting");
  assert.equal(error.message, "NOT_FOUND: no such greeting");
  assert.equal(error.code, 5);
  assert.equal(error.codeName, "NOT_FOUND");
  assert.equal(error.rawMessage, "no such greeting");
  assert.equal(error.name, "GrpcWebError");
  assert.ok(error instanceof Error);
});

test("a ConnectError becomes a GrpcWebError with its metadata, details and the response it saw", () => {
  const detail = {
    type: HelloReplySchema.typeName,
    value: toBinary(HelloReplySchema, create(HelloReplySchema, { message: "why" })),
  };
  const cause = new ConnectError("gone", Code.Unavailable, { "x-a": "1" }, undefined);
  cause.details = [detail];
  const headers = new Headers({ "x-h": "h" });
  const trailers = new Headers({ "x-t": "t" });
  const error = toGrpcWebError(cause, { headers, trailers });
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.rawMessage, "gone");
  assert.equal(error.metadata.get("x-a"), "1");
  assert.equal(error.headers, headers);
  assert.equal(error.trailers, trailers);
  assert.equal(error.cause, cause);
  assert.deepEqual(error.details, [detail]);
});

test("findDetails decodes the details of the asked type only", () => {
  const reply = {
    type: HelloReplySchema.typeName,
    value: toBinary(HelloReplySchema, create(HelloReplySchema, { message: "why" })),
  };
  const request = { type: HelloRequestSchema.typeName, value: new Uint8Array([10, 1, 0x61]) };
  const error = new GrpcWebError(Code.Internal, "x", { details: [request, reply] });
  assert.deepEqual(
    error.findDetails(HelloReplySchema).map((d) => d.message),
    ["why"],
  );
  assert.deepEqual(
    error.findDetails(HelloRequestSchema).map((d) => d.name),
    ["a"],
  );
});

test("an AbortError means CANCELLED, anything else UNKNOWN, with empty metadata", () => {
  const aborted = toGrpcWebError(new DOMException("stop", "AbortError"), {});
  assert.equal(aborted.codeName, "CANCELLED");
  const other = toGrpcWebError(new TypeError("boom"), {});
  assert.equal(other.codeName, "UNKNOWN");
  assert.equal(other.rawMessage, "boom");
  assert.deepEqual([...other.headers, ...other.trailers, ...other.metadata], []);
});

test("a GrpcWebError passes through unchanged", () => {
  const error = new GrpcWebError(Code.Aborted, "x");
  assert.equal(toGrpcWebError(error, { headers: new Headers({ a: "b" }) }), error);
});
