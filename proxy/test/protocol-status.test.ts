import assert from "node:assert/strict";
import { constants } from "node:http2";
import { describe, test } from "node:test";
import {
  Code,
  codeFromHttpStatus,
  codeFromRstCode,
  codeName,
  decodeGrpcMessage,
  encodeGrpcMessage,
  GrpcError,
  messageFromNonGrpcReply,
} from "../src/protocol/status.js";

describe("codes", () => {
  test("are the 17 codes of doc/statuscodes.md, numbered 0 to 16", () => {
    assert.deepEqual(
      Object.values(Code),
      Array.from({ length: 17 }, (_, i) => i),
    );
    assert.equal(Code.DEADLINE_EXCEEDED, 4);
    assert.equal(Code.UNAUTHENTICATED, 16);
  });

  test("codeName names every code, and numbers beyond the table too", () => {
    for (const [name, code] of Object.entries(Code)) assert.equal(codeName(code), name);
    assert.equal(codeName(17), "CODE_17");
    assert.equal(codeName(100), "CODE_100");
    assert.equal(codeName(-1), "CODE_-1");
  });

  test("GrpcError is an Error carrying a code and the message as given", () => {
    const error = new GrpcError(Code.NOT_FOUND, "no such user");
    assert.ok(error instanceof Error);
    assert.equal(error.code, 5);
    assert.equal(error.message, "no such user");
    assert.equal(error.name, "GrpcError");
  });
});

describe("codeFromHttpStatus (doc/http-grpc-status-mapping.md)", () => {
  for (const [status, code] of [
    [400, Code.INTERNAL],
    [401, Code.UNAUTHENTICATED],
    [403, Code.PERMISSION_DENIED],
    [404, Code.UNIMPLEMENTED],
    [429, Code.UNAVAILABLE],
    [502, Code.UNAVAILABLE],
    [503, Code.UNAVAILABLE],
    [504, Code.UNAVAILABLE],
    [200, Code.UNKNOWN],
    [204, Code.UNKNOWN],
    [301, Code.UNKNOWN],
    [405, Code.UNKNOWN],
    [415, Code.UNKNOWN],
    [500, Code.UNKNOWN],
    [501, Code.UNKNOWN],
  ] as const) {
    test(`HTTP ${status} → ${codeName(code)}`, () => assert.equal(codeFromHttpStatus(status), code));
  }
});

describe("codeFromRstCode (doc/PROTOCOL-HTTP2.md Errors)", () => {
  for (const [rstCode, code] of [
    [constants.NGHTTP2_NO_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_PROTOCOL_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_INTERNAL_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_FLOW_CONTROL_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_SETTINGS_TIMEOUT, Code.INTERNAL],
    [constants.NGHTTP2_STREAM_CLOSED, Code.INTERNAL],
    [constants.NGHTTP2_FRAME_SIZE_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_REFUSED_STREAM, Code.UNAVAILABLE],
    [constants.NGHTTP2_CANCEL, Code.CANCELLED],
    [constants.NGHTTP2_COMPRESSION_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_CONNECT_ERROR, Code.INTERNAL],
    [constants.NGHTTP2_ENHANCE_YOUR_CALM, Code.RESOURCE_EXHAUSTED],
    [constants.NGHTTP2_INADEQUATE_SECURITY, Code.PERMISSION_DENIED],
    [constants.NGHTTP2_HTTP_1_1_REQUIRED, Code.INTERNAL],
    [0xff, Code.INTERNAL],
  ] as const) {
    test(`RST_STREAM 0x${rstCode.toString(16)} → ${codeName(code)}`, () =>
      assert.equal(codeFromRstCode(rstCode), code));
  }
});

describe("grpc-message percent-encoding", () => {
  test("printable ASCII other than '%' is left as is, the same string", () => {
    const printable = " !\"#$&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~";
    assert.equal(encodeGrpcMessage(printable), printable);
  });

  test("'%' is always encoded", () => {
    assert.equal(encodeGrpcMessage("100%"), "100%25");
    assert.equal(encodeGrpcMessage("%25"), "%2525");
  });

  test("non-ASCII is UTF-8 bytes as upper-case %XX", () => {
    assert.equal(encodeGrpcMessage("héllo"), "h%C3%A9llo");
    assert.equal(encodeGrpcMessage("日本"), "%E6%97%A5%E6%9C%AC");
    assert.equal(encodeGrpcMessage("😀"), "%F0%9F%98%80");
  });

  test("control characters, DEL and the bytes just outside the range are encoded", () => {
    assert.equal(encodeGrpcMessage("a\nb\r\t\0\x1f\x7f"), "a%0Ab%0D%09%00%1F%7F");
  });

  test("round trips non-ASCII, '%', control characters and plain text", () => {
    for (const message of [
      "",
      "plain",
      "50% off",
      "%%",
      "line\r\nbreak",
      "naïve — ✓ 😀",
      "\0\x01\x7f",
      "%41",
    ]) {
      assert.equal(decodeGrpcMessage(encodeGrpcMessage(message)), message, JSON.stringify(message));
    }
  });

  test("decodes lower-case hex too", () => {
    assert.equal(decodeGrpcMessage("caf%c3%a9"), "café");
  });

  test("leaves malformed sequences as written instead of throwing", () => {
    for (const [value, decoded] of [
      ["%", "%"],
      ["100%", "100%"],
      ["%2", "%2"],
      ["%G1", "%G1"],
      ["%%41", "%A"],
      ["a%zzb", "a%zzb"],
      ["%4", "%4"],
      ["%C3", "\ufffd"], // a lone UTF-8 lead byte
      ["%FF%FE", "\ufffd\ufffd"],
      ["raw é stays", "raw é stays"],
    ] as const) {
      assert.equal(decodeGrpcMessage(value), decoded, value);
    }
  });

  test("never throws on any two-character sequence after '%'", () => {
    for (let a = 0; a < 128; a++) {
      for (const b of ["0", "g", "%", "\u00e9"])
        assert.equal(typeof decodeGrpcMessage(`x%${String.fromCharCode(a)}${b}`), "string");
    }
  });
});

describe("messageFromNonGrpcReply", () => {
  const html = Buffer.from("<html><body>502 Bad Gateway</body></html>\n");

  test("names the HTTP status, the content-type and the body", () => {
    const message = messageFromNonGrpcReply(502, "text/html", html);
    assert.match(message, /HTTP 502/);
    assert.match(message, /text\/html/);
    assert.ok(message.endsWith("<html><body>502 Bad Gateway</body></html>"), message);
  });

  test("says when there is no content-type, and leaves out an empty body", () => {
    const message = messageFromNonGrpcReply(503, undefined, Buffer.alloc(0));
    assert.match(message, /HTTP 503/);
    assert.match(message, /no content-type/);
    assert.doesNotMatch(message, /: $/);
  });

  test("keeps at most 1024 body bytes by default and marks the cut", () => {
    const message = messageFromNonGrpcReply(502, "text/plain", Buffer.alloc(5000, "z"));
    assert.equal(message.match(/z+/)?.[0].length, 1024);
    assert.ok(message.endsWith("..."));
  });

  test("honours a given limit", () => {
    const message = messageFromNonGrpcReply(502, "text/plain", Buffer.from("abcdefgh"), 3);
    assert.ok(message.endsWith(": abc..."), message);
  });

  test("never cuts a UTF-8 character in half, wherever the limit falls in it", () => {
    for (let before = 0; before < 4; before++) {
      const body = Buffer.from(`${"a".repeat(10 - before)}😀tail`);
      for (let limit = 7; limit <= 14; limit++) {
        const message = messageFromNonGrpcReply(502, "text/plain", body, limit);
        assert.ok(!message.includes("\ufffd"), `limit ${limit}: ${message}`);
        const kept = message.slice(message.lastIndexOf(": ") + 2).replace(/\.\.\.$/, "");
        assert.ok(Buffer.byteLength(kept) <= limit, `limit ${limit}: ${kept}`);
      }
    }
  });

  test("accepts a Uint8Array view into a larger buffer", () => {
    const backing = Buffer.from("IGNOREDhello");
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 7, 5);
    assert.ok(messageFromNonGrpcReply(500, "text/plain", view).endsWith(": hello"));
  });
});
