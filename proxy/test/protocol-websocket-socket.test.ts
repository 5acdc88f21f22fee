// The grpc-websockets protocol code over real sockets: a raw client (support/websocket-call.ts) sends good and bad
// input to the echo peer (support/websocket-echo.ts), and reads the status and close code each gets. The proxy's
// own WebSocket tests ask the same of the proxy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code } from "../src/protocol/status.js";
import { CloseCode } from "../src/protocol/websocket/close-code.js";
import { GRPC_WEBSOCKETS } from "../src/protocol/websocket/subprotocol.js";
import { frame } from "./support/chunks.js";
import { openWebSocketCall, type WebSocketCall } from "./support/websocket-call.js";
import { type EchoServer, startEchoServer } from "./support/websocket-echo.js";

const MAX_MESSAGE_BYTES = 1024;
const METADATA = { "content-type": "application/grpc-web+proto", "x-echo-initial": "hi" };
const PATH = "/grpc.testing.TestService/FullDuplexCall";

let echo: EchoServer;

before(async () => {
  echo = await startEchoServer({ maxMessageBytes: MAX_MESSAGE_BYTES, maxMetadataBytes: 256 });
});

after(() => echo?.close());

const open = () => openWebSocketCall(`${echo.host}${PATH}`);

describe("the protocol code over a socket", () => {
  test("a call: metadata, messages, finished → headers, the echoed messages, trailers, close 1000", async () => {
    const call = await open();
    assert.equal(call.protocol, GRPC_WEBSOCKETS);
    call.sendMetadata(METADATA);
    call.sendMessage(Buffer.from("one"));
    call.sendMessage(Buffer.alloc(0));
    call.sendMessage(Buffer.alloc(MAX_MESSAGE_BYTES, 7));
    call.finish();
    const result = await call.result;
    assert.deepEqual(result.headers, { "x-echo-initial": "hi" });
    assert.deepEqual(result.messages, [
      Buffer.from("one"),
      Buffer.alloc(0),
      Buffer.alloc(MAX_MESSAGE_BYTES, 7),
    ]);
    assert.deepEqual(result.trailers, { "grpc-status": "0", "x-trailer": "t" });
    assert.equal(result.closeCode, CloseCode.NORMAL);
    assert.equal(echo.calls.at(-1)?.path, PATH);
  });

  test("a frame cut across data messages, one byte each, comes back whole", async () => {
    const call = await open();
    call.sendMetadata(METADATA);
    for (const byte of frame(0, "split")) call.sendRaw(Buffer.from([0, byte]));
    call.finish();
    const result = await call.result;
    assert.deepEqual(result.messages, [Buffer.from("split")]);
    assert.equal(result.trailers?.["grpc-status"], "0");
  });

  const badInput: Array<{
    what: string;
    send: (call: WebSocketCall) => void;
    code: number;
    closeCode: number;
    message: RegExp;
  }> = [
    {
      what: "a text message first",
      send: (call) => call.sendRaw("content-type: application/grpc-web+proto\r\n"),
      code: Code.INTERNAL,
      closeCode: CloseCode.UNSUPPORTED_DATA,
      message: /a text WebSocket message/,
    },
    {
      what: "a text message after the metadata",
      send: (call) => {
        call.sendMetadata(METADATA);
        call.sendRaw("hello");
      },
      code: Code.INTERNAL,
      closeCode: CloseCode.UNSUPPORTED_DATA,
      message: /a text WebSocket message/,
    },
    {
      what: "a gRPC frame where the metadata belongs",
      send: (call) => call.sendMessage(Buffer.from("no metadata first")),
      code: Code.INTERNAL,
      closeCode: CloseCode.PROTOCOL_ERROR,
      message: /must be the request metadata as "name: value" lines: byte 0x00 at offset 0/,
    },
    {
      what: "metadata over the limit",
      send: (call) => call.sendMetadata({ "x-big": "b".repeat(300) }),
      code: Code.RESOURCE_EXHAUSTED,
      closeCode: CloseCode.MESSAGE_TOO_BIG,
      message: /request metadata of 309 bytes is larger than the limit of 256 bytes/,
    },
    {
      what: "an unknown control byte",
      send: (call) => {
        call.sendMetadata(METADATA);
        call.sendRaw(Buffer.from([2, 0, 0, 0, 0, 0]));
      },
      code: Code.INTERNAL,
      closeCode: CloseCode.PROTOCOL_ERROR,
      message: /unknown control byte 0x02/,
    },
    {
      what: "a frame with the compressed flag and no grpc-encoding",
      send: (call) => {
        call.sendMetadata(METADATA);
        call.sendMessage(Buffer.from("zipped?"), 0x01);
      },
      code: Code.INTERNAL,
      closeCode: CloseCode.PROTOCOL_ERROR,
      message: /compressed flag/,
    },
    {
      what: "a frame with the trailer flag",
      send: (call) => {
        call.sendMetadata(METADATA);
        call.sendMessage(Buffer.from("grpc-status:0\r\n"), 0x80);
      },
      code: Code.INTERNAL,
      closeCode: CloseCode.PROTOCOL_ERROR,
      message: /trailer flag/,
    },
    {
      what: "a frame announcing more than the message limit",
      send: (call) => {
        call.sendMetadata(METADATA);
        const header = Buffer.from([0, 0, 0, 0, 0, 0]);
        header.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 2);
        call.sendRaw(header);
      },
      code: Code.RESOURCE_EXHAUSTED,
      closeCode: CloseCode.MESSAGE_TOO_BIG,
      message: /request message of 1025 bytes is larger than the limit of 1024 bytes/,
    },
  ];
  for (const { what, send, code, closeCode, message } of badInput) {
    test(`${what}: its status in the trailers, then close ${closeCode}`, async () => {
      const call = await open();
      send(call);
      const result = await call.result;
      assert.ok(result.headers, "a headers message first, even an empty one");
      assert.equal(result.trailers?.["grpc-status"], String(code));
      assert.match(decodeURIComponent(result.trailers?.["grpc-message"] ?? ""), message);
      assert.equal(result.closeCode, closeCode);
    });
  }

  test("finished sending inside a frame the echo already sent back: no status can follow, close 1011", async () => {
    const call = await open();
    call.sendMetadata(METADATA);
    call.sendRaw(Buffer.concat([Buffer.from([0]), frame(0, "cut short").subarray(0, 9)]));
    call.finish();
    const result = await call.result;
    // The reader refused the finish (unit-tested), but the replies stop inside the echoed frame, where a trailer
    // frame would be read as the rest of that message.
    assert.equal(result.leftover, 9);
    assert.equal(result.trailers, undefined);
    assert.equal(result.closeCode, CloseCode.INTERNAL_ERROR);
  });

  test("a WebSocket message over the library's cap is refused by the library: close 1009 and no status", async () => {
    const call = await open();
    call.sendMetadata(METADATA);
    call.sendRaw(Buffer.concat([Buffer.from([0]), frame(0, Buffer.alloc(MAX_MESSAGE_BYTES + 1))]));
    const result = await call.result;
    assert.equal(result.closeCode, CloseCode.MESSAGE_TOO_BIG);
    assert.equal(result.trailers, undefined);
  });

  test("the client going away mid-frame is seen by the server as a close, with the client's code", async () => {
    const call = await open();
    call.sendMetadata(METADATA);
    call.sendRaw(Buffer.concat([Buffer.from([0]), frame(0, "never finished").subarray(0, 7)]));
    call.socket.close(4000, "gone");
    await call.result;
    const seen = echo.calls.at(-1);
    assert.equal(seen?.closedWith, 4000);
  });
});
