// docs/websocket.md checked against a client we did not write: @improbable-eng/grpc-web's WebsocketTransport in
// headless Chromium, talking to the protocol code's echo peer (support/websocket-echo.ts). No upstream, no proxy:
// what is checked is the wire between the browser and whatever answers the upgrade.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../testing/browser.js";
import { waitFor } from "../../testing/net.js";
import { Code } from "../src/protocol/status.js";
import { CloseCode } from "../src/protocol/websocket/close-code.js";
import { GRPC_WEBSOCKETS } from "../src/protocol/websocket/subprotocol.js";
import type { WebSocketCallRequest } from "./browser/websocket-page-api.js";
import {
  callOverWebSocket,
  openWebSocketPage,
  startWebSocketPageServer,
  type WebSocketPageServer,
} from "./browser/websocket-page-server.js";
import { frame } from "./support/chunks.js";
import { type EchoServer, REFUSAL_MESSAGE, startEchoServer } from "./support/websocket-echo.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const texts = (replies: Array<{ base64: string }>) =>
  replies.map((r) => Buffer.from(r.base64, "base64").toString());

let browser: Browser;
let pages: WebSocketPageServer;
let echo: EchoServer;
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
    assert.deepEqual(outcome.status, { code: Code.PERMISSION_DENIED, message: REFUSAL_MESSAGE });
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
