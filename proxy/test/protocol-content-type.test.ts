import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatWebContentType,
  parseWebContentType,
  responseContentType,
  upstreamContentType,
  type WebContentType,
} from "../src/protocol/content-type.js";

const binary = (suffix = ""): WebContentType => ({ text: false, suffix });
const text = (suffix = ""): WebContentType => ({ text: true, suffix });

describe("parseWebContentType", () => {
  for (const [value, expected] of [
    ["application/grpc-web", binary()],
    ["application/grpc-web+proto", binary("+proto")],
    ["application/grpc-web+json", binary("+json")],
    ["application/grpc-web+thrift", binary("+thrift")],
    ["application/grpc-web+my.codec_v2", binary("+my.codec_v2")],
    ["application/grpc-web-text", text()],
    ["application/grpc-web-text+proto", text("+proto")],
    ["Application/Grpc-Web", binary()],
    ["APPLICATION/GRPC-WEB-TEXT+PROTO", text("+proto")],
    ["application/grpc-web; charset=utf-8", binary()],
    ["application/grpc-web+proto; version=1", binary("+proto")],
    ["application/grpc-web-text;charset=UTF-8", text()],
    ["application/grpc-web;", binary()],
    ["  application/grpc-web+proto  ", binary("+proto")],
  ] as const) {
    test(`${JSON.stringify(value)} is gRPC-Web`, () =>
      assert.deepEqual(parseWebContentType(value), expected));
  }

  for (const value of [
    undefined,
    "",
    "application/grpc",
    "application/grpc+proto",
    "application/json",
    "text/plain",
    "application/grpc-webx",
    "application/grpc-web+",
    "application/grpc-web-textual",
    "application/grpc-web-text-proto",
    "application/grpc-web+proto+json",
    "application/grpc-web+pro to",
    "application/grpc-web/proto",
    "x-application/grpc-web",
  ]) {
    test(`${JSON.stringify(value)} is not gRPC-Web`, () =>
      assert.equal(parseWebContentType(value), undefined));
  }
});

describe("upstreamContentType and formatWebContentType", () => {
  test("the upstream type is application/grpc with the same suffix, text or not", () => {
    assert.equal(upstreamContentType(binary()), "application/grpc");
    assert.equal(upstreamContentType(text()), "application/grpc");
    assert.equal(upstreamContentType(binary("+proto")), "application/grpc+proto");
    assert.equal(upstreamContentType(text("+json")), "application/grpc+json");
  });

  test("formatting gives back the canonical lower-case type", () => {
    assert.equal(formatWebContentType(binary()), "application/grpc-web");
    assert.equal(formatWebContentType(binary("+proto")), "application/grpc-web+proto");
    assert.equal(formatWebContentType(text()), "application/grpc-web-text");
    assert.equal(formatWebContentType(text("+proto")), "application/grpc-web-text+proto");
  });

  test("formatting then parsing is the identity", () => {
    for (const ct of [binary(), binary("+proto"), binary("+json"), text(), text("+proto"), text("+json")]) {
      assert.deepEqual(parseWebContentType(formatWebContentType(ct)), ct);
    }
  });
});

describe("responseContentType: Accept × request content-type", () => {
  for (const [accept, request, expected] of [
    // No usable Accept: the request's type.
    [undefined, binary("+proto"), binary("+proto")],
    [undefined, text(), text()],
    ["*/*", text("+proto"), text("+proto")],
    ["application/json", binary(), binary()],
    ["", text(), text()],
    ["application/grpc", binary("+proto"), binary("+proto")],
    // Accept chooses text or binary (the official client sends Accept: application/grpc-web-text).
    ["application/grpc-web-text", binary(), text()],
    ["application/grpc-web", text(), binary()],
    ["application/grpc-web-text+proto", binary("+proto"), text("+proto")],
    ["Application/GRPC-Web-Text", binary(), text()],
    ["application/grpc-web-text; q=0.9", binary(), text()],
    // A bare Accept keeps the request's codec.
    ["application/grpc-web-text", binary("+proto"), text("+proto")],
    ["application/grpc-web", text("+json"), binary("+json")],
    // An Accept suffix wins.
    ["application/grpc-web+json", text("+proto"), binary("+json")],
    // In a list, the first gRPC-Web entry counts.
    ["text/html, application/grpc-web-text, */*", binary(), text()],
    ["application/grpc-web, application/grpc-web-text", text(), binary()],
    ["*/*, application/grpc-web-text+proto", binary("+proto"), text("+proto")],
  ] as const) {
    test(`Accept ${JSON.stringify(accept)} with request ${formatWebContentType(request)} → ${formatWebContentType(expected)}`, () =>
      assert.deepEqual(responseContentType(accept, request), expected));
  }
});
