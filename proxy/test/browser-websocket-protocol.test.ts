// docs/websocket.md checked against a client we did not write: @improbable-eng/grpc-web's WebsocketTransport in
// headless Chromium, talking to a bare `ws` server that speaks the protocol with the proxy's own protocol code
// (ClientMessageReader in, ServerMessageWriter out) and echoes each request frame back as a reply. No upstream, no
// proxy: what is checked is the wire between the browser and whatever answers the upgrade.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type WebSocket, WebSocketServer } from "ws";
import { launchChromium } from "../../testing/browser.js";
import { waitFor } from "../../testing/net.js";
import { Code, encodeGrpcMessage, type GrpcError } from "../src/protocol/status.js";
import { ClientMessageError, ClientMessageReader } from "../src/protocol/websocket/client-messages.js";
import { CloseCode } from "../src/protocol/websocket/close-code.js";
import { ServerMessageWriter } from "../src/protocol/websocket/server-messages.js";
import { GRPC_WEBSOCKETS, selectSubprotocol } from "../src/protocol/websocket/subprotocol.js";
import type { WebSocketCallRequest } from "./browser/websocket-page-api.js";
import {
  callOverWebSocket,
  openWebSocketPage,
  startWebSocketPageServer,
  type WebSocketPageServer,
} from "./browser/websocket-page-server.js";
import { frame } from "./support/chunks.js";

const NON_ASCII_MESSAGE = "Grüße aus Köln: 100% ✓";

/** What the server saw of one call. */
interface SeenCall {
  path: string;
  upgrade: IncomingHttpHeaders;
  protocol: string;
  /** Every client message, raw, in order. */
  messages: Buffer[];
  metadata?: Readonly<Record<string, string>>;
  /** The close code the client's close frame carried (1005: none), once the socket closed. */
  closedWith?: number;
}

/**
 * Speaks the server side of the protocol and echoes: request bytes go back as they came (request frames are
 * message frames, so they read as replies), and finished sending ends the call with OK. The first message's
 * `x-scenario` line picks another ending, to see what the client makes of it.
 */
async function startEchoServer() {
  const calls: SeenCall[] = [];
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (offered) => selectSubprotocol(offered) ?? false,
  });
  server.on("connection", (socket, request) => {
    const seen: SeenCall = {
      path: request.url ?? "",
      upgrade: request.headers,
      protocol: socket.protocol,
      messages: [],
    };
    calls.push(seen);
    const reader = new ClientMessageReader({ maxMessageBytes: 1 << 20, maxMetadataBytes: 8192 });
    const writer = new ServerMessageWriter(1 << 20);
    socket.on("close", (code) => {
      seen.closedWith = code;
    });
    socket.on("message", (data: Buffer, isBinary) => {
      seen.messages.push(Buffer.from(data));
      // Once the server has ended the call, what the client still had in flight is read no more.
      if (socket.readyState !== socket.OPEN) return;
      const message = reader.read(data, isBinary);
      if (message instanceof ClientMessageError) {
        endWith(socket, writer, statusTrailers(message), message.closeCode);
        return;
      }
      switch (message.kind) {
        case "metadata":
          seen.metadata = message.metadata;
          scenario(socket, writer, message.metadata);
          return;
        case "data":
          sendData(socket, writer, message.bytes);
          return;
        case "finished":
          endWith(socket, writer, [
            ["grpc-status", "0"],
            ["x-trailer", "t"],
          ]);
      }
    });
  });
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}`,
    calls,
    async close() {
      for (const client of server.clients) client.terminate();
      server.close();
      await once(server, "close");
    },
  };
}

function scenario(
  socket: WebSocket,
  writer: ServerMessageWriter,
  metadata: Readonly<Record<string, string>>,
) {
  switch (metadata["x-scenario"]) {
    case "refuse":
      endWith(socket, writer, [
        ["grpc-status", String(Code.PERMISSION_DENIED)],
        ["grpc-message", encodeGrpcMessage(NON_ASCII_MESSAGE)],
        ["x-refusal", "r"],
      ]);
      return;
    case "stop-mid-frame":
      socket.send(writer.headers([]));
      socket.send(frame(0, "a whole reply"));
      socket.send(frame(0, "half a reply").subarray(0, 8));
      socket.close(CloseCode.INTERNAL_ERROR);
      return;
    default:
      socket.send(writer.headers([["x-echo-initial", metadata["x-echo-initial"] ?? "none"]]));
  }
}

function sendData(socket: WebSocket, writer: ServerMessageWriter, bytes: Buffer) {
  const out = writer.data(bytes);
  if (out instanceof Error) endWith(socket, writer, statusTrailers(out));
  else socket.send(out);
}

function statusTrailers(error: GrpcError): Array<[string, string]> {
  return [
    ["grpc-status", String(error.code)],
    ["grpc-message", encodeGrpcMessage(error.message)],
  ];
}

function endWith(
  socket: WebSocket,
  writer: ServerMessageWriter,
  trailers: Array<[string, string]>,
  closeCode: number = CloseCode.NORMAL,
) {
  const messages = writer.end(trailers);
  if (messages === undefined) {
    socket.close(CloseCode.INTERNAL_ERROR);
    return;
  }
  for (const message of messages) socket.send(message);
  socket.close(closeCode);
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const texts = (replies: Array<{ base64: string }>) =>
  replies.map((r) => Buffer.from(r.base64, "base64").toString());

let browser: Browser;
let pages: WebSocketPageServer;
let echo: Awaited<ReturnType<typeof startEchoServer>>;
let page: Page;

before(async () => {
  [browser, pages, echo] = await Promise.all([
    launchChromium(),
    startWebSocketPageServer(),
    startEchoServer(),
  ]);
  page = await openWebSocketPage(browser, pages.url);
});

after(async () => {
  await page?.close();
  await browser?.close();
  await echo?.close();
  await pages?.close();
});

describe("improbable's WebsocketTransport in Chromium, against the protocol code", () => {
  const call = (extra: Partial<WebSocketCallRequest>) =>
    callOverWebSocket(page, {
      host: echo.host,
      service: "grpc.testing.TestService",
      method: "FullDuplexCall",
      requestStream: true,
      responseStream: true,
      requests: [],
      metadata: {},
      ...extra,
    });

  test("sends what docs/websocket.md says: subprotocol, path, header lines, one framed message each, finished", async () => {
    const outcome = await call({
      requests: [b64("one"), b64(""), b64("three")],
      metadata: { Authorization: "Bearer abc.def", "x-echo-initial": "hello", "x-multi": "1" },
    });
    assert.deepEqual(outcome.status, { code: Code.OK, message: "" });
    const seen = echo.calls.at(-1);
    assert.ok(seen);
    assert.equal(seen.path, "/grpc.testing.TestService/FullDuplexCall");
    assert.equal(seen.protocol, GRPC_WEBSOCKETS);
    assert.equal(seen.upgrade["sec-websocket-protocol"], GRPC_WEBSOCKETS);
    assert.equal(seen.upgrade.origin, pages.origin, "the upgrade carries the page's Origin");
    // The client lower-cases names and writes one `name: value` line per name, then its own two.
    assert.equal(
      seen.messages[0]?.toString("latin1"),
      "authorization: Bearer abc.def\r\nx-echo-initial: hello\r\nx-multi: 1\r\n" +
        "content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n",
    );
    assert.deepEqual(seen.messages.slice(1), [
      Buffer.concat([Buffer.from([0]), frame(0, "one")]),
      Buffer.concat([Buffer.from([0]), frame(0, "")]),
      Buffer.concat([Buffer.from([0]), frame(0, "three")]),
      Buffer.from([1]),
    ]);
  });

  test("reads the first 0x80 frame as headers, message frames as replies, the second 0x80 frame as trailers", async () => {
    const outcome = await call({ requests: [b64("a"), b64("b")], metadata: { "x-echo-initial": "hi" } });
    assert.deepEqual(texts(outcome.replies), ["a", "b"]);
    assert.deepEqual(outcome.headers, { "x-echo-initial": ["hi"] });
    assert.deepEqual(outcome.trailers, { "grpc-status": ["0"], "x-trailer": ["t"] });
    assert.deepEqual(outcome.status, { code: Code.OK, message: "" });
    await waitFor(() => echo.calls.at(-1)?.closedWith === CloseCode.NORMAL, 5000);
  });

  test("ping-pong: each reply comes back on the same open call before the next request is sent", async () => {
    const requests = Array.from({ length: 20 }, (_, i) => b64(`ping ${i}`));
    const outcome = await call({ requests, sending: "ping-pong" });
    assert.deepEqual(
      texts(outcome.replies),
      requests.map((_, i) => `ping ${i}`),
    );
    assert.equal(outcome.status?.code, Code.OK);
    const seen = echo.calls.at(-1);
    assert.equal(
      seen?.messages.length,
      1 + requests.length + 1,
      "one socket: metadata, 20 requests, finished",
    );
  });

  test("1,000 messages each way in one call arrive whole and in order", async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => b64(`message ${i} ${"x".repeat(i % 97)}`));
    const outcome = await call({ requests });
    assert.equal(outcome.status?.code, Code.OK);
    assert.deepEqual(
      outcome.replies.map((r) => r.base64),
      requests,
    );
  });

  test("a status before any reply (empty headers frame, then trailers) reaches the client, message decoded", async () => {
    const outcome = await call({ metadata: { "x-scenario": "refuse" }, requests: [b64("never answered")] });
    assert.deepEqual(outcome.status, { code: Code.PERMISSION_DENIED, message: NON_ASCII_MESSAGE });
    assert.deepEqual(outcome.headers, {});
    assert.equal(outcome.trailers["x-refusal"]?.[0], "r");
    assert.deepEqual(outcome.replies, []);
  });

  test("a response cut inside a frame and closed with 1011 is UNKNOWN to the client, the whole reply before it kept", async () => {
    const outcome = await call({ metadata: { "x-scenario": "stop-mid-frame" } });
    assert.deepEqual(texts(outcome.replies), ["a whole reply"]);
    assert.equal(outcome.status?.code, Code.UNKNOWN);
    assert.match(outcome.status?.message ?? "", /without grpc-status/);
  });

  test("a cancel closes the socket with no close code (1005), after the client never finished sending", async () => {
    const before = echo.calls.length;
    const outcome = await call({
      requests: [b64("first"), b64("second")],
      sending: "never-finish",
      cancelAfterReplies: 1,
    });
    assert.deepEqual(texts(outcome.replies), ["first"]);
    assert.equal(outcome.status, undefined, "the client reports nothing for a call it cancelled");
    const seen = await waitFor(() => {
      const call = echo.calls[before];
      return call?.closedWith === undefined ? undefined : call;
    }, 5000);
    assert.equal(seen.closedWith, 1005);
    assert.ok(!seen.messages.some((m) => m.length === 1 && m[0] === 1), "no finished-sending message");
  });
});
