import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, encodeBinaryHeader } from "@connectrpc/connect";
import { HelloReplySchema, HelloRequestSchema } from "../src/greeter.js";
import { parseTrailer, statusError } from "../src/protocol/status.js";
import { statusBytes } from "./support/status-bytes.js";

test("trailer lines: a space after the colon or none, any case, repeated keys kept", () => {
  const trailer = parseTrailer(new TextEncoder().encode("Grpc-Status:0\r\nx-a: 1\r\nx-a:2\r\n\r\n"));
  assert.equal(trailer.get("grpc-status"), "0");
  assert.equal(trailer.get("x-a"), "1, 2");
});

test("OK is no error; any other code is a ConnectError with the decoded message, the headers and the trailers", () => {
  assert.equal(statusError(new Headers({ "grpc-status": "0" }), new Headers()), undefined);
  const trailer = new Headers({
    "grpc-status": "5",
    "grpc-message": "no%20such%20name%3A%20%C3%A9",
    "x-t": "t",
  });
  const error = statusError(trailer, new Headers({ "x-h": "h" }));
  assert.ok(error instanceof ConnectError);
  assert.equal(error.code, Code.NotFound);
  assert.equal(error.rawMessage, "no such name: é");
  assert.equal(error.metadata.get("x-h"), "h");
  assert.equal(error.metadata.get("x-t"), "t");
  assert.equal(error.metadata.get("grpc-status"), "5");
});

test("trailers-only: the headers that hold the status are the metadata, once", () => {
  const headers = new Headers({ "grpc-status": "14", "x-h": "h" });
  assert.deepEqual([...(statusError(headers, headers)?.metadata ?? [])], [...headers]);
});

test("a malformed percent-encoding is shown as it came", () => {
  const error = statusError(new Headers({ "grpc-status": "13", "grpc-message": "100%" }), new Headers());
  assert.equal(error?.rawMessage, "100%");
});

test("grpc-status that is not a number is a protocol error", () => {
  assert.throws(
    () => statusError(new Headers({ "grpc-status": "oops" }), new Headers()),
    (error) => error instanceof ConnectError && error.code === Code.Internal,
  );
});

test("grpc-status-details-bin becomes details that findDetails decodes, by type", () => {
  const reply = toBinary(HelloReplySchema, create(HelloReplySchema, { message: "ask Grace" }));
  const request = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "a" }));
  const details = statusBytes(Code.PermissionDenied, "not you", [
    { typeUrl: "type.googleapis.com/helloworld.HelloReply", value: reply },
    { typeUrl: "type.googleapis.com/helloworld.HelloRequest", value: request },
  ]);
  const error = statusError(
    new Headers({ "grpc-status": "7", "grpc-status-details-bin": encodeBinaryHeader(details) }),
    new Headers(),
  );
  assert.deepEqual(
    error?.findDetails(HelloReplySchema).map((d) => d.message),
    ["ask Grace"],
  );
  assert.deepEqual(
    error?.findDetails(HelloRequestSchema).map((d) => d.name),
    ["a"],
  );
});

test("garbled details do not hide the status", () => {
  const error = statusError(
    new Headers({ "grpc-status": "14", "grpc-message": "down", "grpc-status-details-bin": "%%%" }),
    new Headers(),
  );
  assert.equal(error?.code, Code.Unavailable);
  assert.equal(error?.rawMessage, "down");
  assert.deepEqual(error?.details, []);
});
