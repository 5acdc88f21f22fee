import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { explainErrors } from "../src/index.js";
import { httpError, isGrpcWebHead } from "../src/protocol/response-checks.js";

function response(status: number, headers: Record<string, string>, type: ResponseType = "basic") {
  const head = new Response(null, { status, headers });
  // A Response made here is always "default"; the browser sets "cors" or "opaqueredirect".
  Object.defineProperty(head, "type", { value: type });
  return head;
}

const grpcWeb = { "content-type": "application/grpc-web+proto" };

/** The error as explainErrors leaves it, for a call that failed with `error`. */
async function explained(error: unknown): Promise<ConnectError> {
  const failing: Parameters<Interceptor>[0] = () => Promise.reject(error);
  try {
    await explainErrors(failing)({ stream: false } as Parameters<typeof failing>[0]);
  } catch (reason) {
    assert.ok(reason instanceof ConnectError);
    return reason;
  }
  assert.fail("no error");
}

test("a grpc-web 200 response can carry a reply", () => {
  assert.ok(isGrpcWebHead(response(200, { "content-type": "application/grpc-web+proto" })));
  assert.ok(isGrpcWebHead(response(200, { "content-type": "Application/grpc-web;charset=x" })));
  assert.ok(!isGrpcWebHead(response(200, { "content-type": "application/grpc-web-text" })));
});

test("a grpc-status header decides, whatever the HTTP status", () => {
  assert.ok(isGrpcWebHead(response(503, { "grpc-status": "14" })));
});

test("an HTTP error without grpc-status maps to its gRPC code and keeps the headers", () => {
  assert.equal(httpError(response(404, {}), "not gRPC-Web").code, Code.Unimplemented);
  assert.equal(
    httpError(response(503, { "content-type": "text/plain" }), "not gRPC-Web").code,
    Code.Unavailable,
  );
  assert.equal(httpError(response(500, {}), "not gRPC-Web").code, Code.Unknown);
  assert.equal(httpError(response(502, { via: "gateway" }), "not gRPC-Web").metadata.get("via"), "gateway");
});

test("explainErrors: an HTML page is named as such, code and metadata kept", async () => {
  const gateway = await explained(
    httpError(response(502, { "content-type": "text/html; charset=utf-8" }), "not gRPC-Web"),
  );
  assert.equal(gateway.code, Code.Unavailable);
  assert.match(gateway.rawMessage, /^HTTP 502 .*HTML page.*proxy.*baseUrl/);
  assert.equal(gateway.metadata.get("content-type"), "text/html; charset=utf-8");
  const webServer = await explained(
    httpError(response(200, { "content-type": "text/html" }), "not gRPC-Web"),
  );
  assert.equal(webServer.code, Code.Unknown);
  assert.match(webServer.rawMessage, /HTML page.*baseUrl/);
  const text = await explained(
    httpError(response(200, { "content-type": "application/grpc-web-text" }), "not gRPC-Web"),
  );
  assert.equal(text.code, Code.Unknown);
  assert.equal(text.rawMessage, "HTTP 200 application/grpc-web-text: not gRPC-Web");
});

test("explainErrors: a redirect is named, with where it led", async () => {
  const error = await explained(
    httpError(response(302, { location: "https://elsewhere.example/x" }), "not gRPC-Web"),
  );
  assert.match(
    error.rawMessage,
    /^HTTP 302 : not gRPC-Web but a redirect to https:\/\/elsewhere\.example\/x, not followed/,
  );
  const opaque = await explained(httpError(response(200, {}, "opaqueredirect"), "not gRPC-Web"));
  assert.match(opaque.rawMessage, /but a redirect, not followed/);
});

test("explainErrors: a cross-origin response without status names the headers the proxy must expose", async () => {
  const error = await explained(httpError(response(200, grpcWeb, "cors"), "without grpc-status"));
  assert.equal(error.code, Code.Unknown);
  assert.match(error.rawMessage, /CORS/);
  assert.match(error.rawMessage, /Access-Control-Expose-Headers/);
  assert.match(error.rawMessage, /grpc-status, grpc-message, grpc-status-details-bin/);
});

test("explainErrors: without CORS in play, a missing status blames the server, not CORS", async () => {
  const error = await explained(httpError(response(200, grpcWeb, "basic"), "without grpc-status"));
  assert.equal(error.code, Code.Unknown);
  assert.equal(error.rawMessage, "HTTP 200 application/grpc-web+proto: without grpc-status");
});

test("explainErrors: a fetch that failed names the network and CORS, its TypeError kept as the cause", async () => {
  const cause = new TypeError("Failed to fetch");
  const error = await explained(ConnectError.from(cause, Code.Unavailable));
  assert.equal(error.code, Code.Unavailable);
  assert.match(error.rawMessage, /the network failed, or CORS refused the call/);
  assert.equal(error.cause, cause);
  // Any other error passes as it was.
  const status = new ConnectError("down", Code.Unavailable);
  assert.equal(await explained(status), status);
});
