import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "@connectrpc/connect";
import { missingStatusError, responseHeadError } from "../src/protocol/response-checks.js";

function head(status: number, headers: Record<string, string>, type: ResponseType = "basic") {
  return { status, headers: new Headers(headers), type };
}

test("a grpc-web 200 response can carry a reply", () => {
  assert.equal(responseHeadError(head(200, { "content-type": "application/grpc-web+proto" })), undefined);
  assert.equal(responseHeadError(head(200, { "content-type": "Application/grpc-web;charset=x" })), undefined);
});

test("a grpc-status header decides, whatever the HTTP status", () => {
  assert.equal(responseHeadError(head(503, { "grpc-status": "14" })), undefined);
});

test("an HTTP error without grpc-status maps to its gRPC code and keeps the headers", () => {
  assert.equal(responseHeadError(head(404, {}))?.code, Code.Unimplemented);
  assert.equal(responseHeadError(head(503, { "content-type": "text/plain" }))?.code, Code.Unavailable);
  assert.equal(responseHeadError(head(500, {}))?.code, Code.Unknown);
  assert.equal(responseHeadError(head(502, { via: "gateway" }))?.metadata.get("via"), "gateway");
});

test("an HTML page is named as such: something other than the proxy answered", () => {
  const gateway = responseHeadError(head(502, { "content-type": "text/html; charset=utf-8" }));
  assert.equal(gateway?.code, Code.Unavailable);
  assert.match(gateway?.rawMessage ?? "", /^HTTP 502 .*HTML page.*proxy.*baseUrl/);
  const webServer = responseHeadError(head(200, { "content-type": "text/html" }));
  assert.equal(webServer?.code, Code.Unknown);
  assert.match(webServer?.rawMessage ?? "", /HTML page.*baseUrl/);
  const text = responseHeadError(head(200, { "content-type": "application/grpc-web-text" }));
  assert.equal(text?.code, Code.Unknown);
  assert.match(text?.rawMessage ?? "", /application\/grpc-web-text: not gRPC-Web/);
});

test("an empty cross-origin body without status names the headers the proxy must expose", () => {
  const error = missingStatusError(head(200, {}, "cors"), true);
  assert.equal(error.code, Code.Unknown);
  assert.match(error.rawMessage, /CORS/);
  assert.match(error.rawMessage, /Access-Control-Expose-Headers/);
  assert.match(error.rawMessage, /grpc-status, grpc-message, grpc-status-details-bin/);
});

test("without CORS in play, a missing status blames the server, not CORS", () => {
  for (const error of [
    missingStatusError(head(200, {}, "basic"), true),
    missingStatusError(head(200, {}, "cors"), false),
  ]) {
    assert.equal(error.code, Code.Unknown);
    assert.match(error.rawMessage, /without grpc-status/);
    assert.doesNotMatch(error.rawMessage, /CORS/);
  }
});
