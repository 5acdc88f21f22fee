import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { checkStatus, parseTrailer } from "../src/protocol/status.js";

/** The error checkStatus throws, or undefined when it returns (OK). */
function statusError(fields: Headers, headers: Headers): ConnectError | undefined {
  try {
    checkStatus(fields, headers);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ConnectError);
    return error;
  }
}

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
    () => checkStatus(new Headers({ "grpc-status": "oops" }), new Headers()),
    (error) => error instanceof ConnectError && error.code === Code.Internal,
  );
});
