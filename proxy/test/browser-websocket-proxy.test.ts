// The proxy's WebSocket endpoint with a client we did not write: @improbable-eng/grpc-web's WebsocketTransport in
// headless Chromium, on a page of its own origin, through the real proxy to @grpc/grpc-js's interop TestService.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../testing/browser.js";
import { waitFor } from "../../testing/net.js";
import { Code } from "../src/protocol/status.js";
import type { WebSocketCallRequest } from "./browser/websocket-page-api.js";
import {
  callOverWebSocket,
  openWebSocketPage,
  startWebSocketPageServer,
  type WebSocketPageServer,
} from "./browser/websocket-page-server.js";
import {
  decodeMessage,
  ECHO_INITIAL,
  ECHO_TRAILING,
  encodeMessage,
  grpcTesting,
  startInteropTestService,
} from "./support/interop-test-service.js";
import { ObservationLog } from "./support/observations.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const testing = grpcTesting();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const outputRequest = (...sizes: number[]) =>
  b64(
    encodeMessage(testing.StreamingOutputCallRequest, {
      responseParameters: sizes.map((size) => ({ size })),
    }),
  );
const replySizes = (replies: Array<{ base64: string }>) =>
  replies.map(
    (r) =>
      (
        decodeMessage(testing.StreamingOutputCallResponse, Buffer.from(r.base64, "base64")).payload as {
          body: Uint8Array;
        }
      ).body.length,
  );

let browser: Browser;
let pages: WebSocketPageServer;
let page: Page;
let log: ObservationLog;
let interop: { port: number; close(): Promise<void> };
let proxy: RunningProxy;
/** The same backend behind a proxy that does not allow the page's origin. */
let closedProxy: RunningProxy;

before(async () => {
  log = new ObservationLog();
  [browser, pages, interop] = await Promise.all([
    launchChromium(),
    startWebSocketPageServer(),
    startInteropTestService(log),
  ]);
  const backend = `http://127.0.0.1:${interop.port}`;
  [proxy, closedProxy] = await Promise.all([
    startProxy(backend, { allowedOrigins: [pages.origin] }),
    startProxy(backend),
  ]);
  page = await openWebSocketPage(browser, pages.url);
});

after(async () => {
  await page?.close();
  await browser?.close();
  await proxy?.close();
  await closedProxy?.close();
  await interop?.close();
  await pages?.close();
});

const call = (extra: Partial<WebSocketCallRequest>) =>
  callOverWebSocket(page, {
    host: proxy.url,
    service: "grpc.testing.TestService",
    method: "FullDuplexCall",
    requestStream: true,
    responseStream: true,
    requests: [],
    metadata: {},
    ...extra,
  });

describe("improbable's WebsocketTransport in Chromium, through the proxy, to grpc-js's TestService", () => {
  test("bidi ping-pong: each reply arrives before the next request is sent; metadata both ways", async () => {
    const sizes = Array.from({ length: 20 }, (_, i) => i + 1);
    const outcome = await call({
      requests: sizes.map((size) => outputRequest(size)),
      sending: "ping-pong",
      metadata: { [ECHO_INITIAL]: "from the page", [ECHO_TRAILING]: "AAEC" },
    });
    assert.equal(outcome.status?.code, Code.OK);
    assert.deepEqual(replySizes(outcome.replies), sizes);
    assert.deepEqual(outcome.headers[ECHO_INITIAL], ["from the page"]);
    assert.deepEqual(outcome.trailers[ECHO_TRAILING], ["AAEC"]);
    await log.waitFor((o) => o.method === "FullDuplexCall" && o.event === "finished");
  });

  test("client streaming (StreamingInputCall): the aggregated size after finished sending", async () => {
    const sizes = [27182, 8, 1828, 45904];
    const outcome = await call({
      method: "StreamingInputCall",
      responseStream: false,
      requests: sizes.map((size) =>
        b64(encodeMessage(testing.StreamingInputCallRequest, { payload: { body: new Uint8Array(size) } })),
      ),
    });
    assert.equal(outcome.status?.code, Code.OK);
    assert.equal(outcome.replies.length, 1);
    const reply = decodeMessage(
      testing.StreamingInputCallResponse,
      Buffer.from(outcome.replies[0]?.base64 ?? "", "base64"),
    );
    assert.equal(reply.aggregatedPayloadSize, 74922);
  });

  test("half duplex, server streaming and unary over WebSocket", async () => {
    const half = await call({ method: "HalfDuplexCall", requests: [outputRequest(1, 2), outputRequest(3)] });
    assert.deepEqual(replySizes(half.replies), [1, 2, 3]);
    assert.equal(half.status?.code, Code.OK);
    const streamed = await call({
      method: "StreamingOutputCall",
      requestStream: false,
      requests: [outputRequest(10, 20, 30)],
    });
    assert.deepEqual(replySizes(streamed.replies), [10, 20, 30]);
    const unary = await call({
      method: "UnaryCall",
      requestStream: false,
      responseStream: false,
      requests: [b64(encodeMessage(testing.SimpleRequest, { responseSize: 314 }))],
    });
    assert.equal(unary.status?.code, Code.OK);
    assert.equal(unary.replies.length, 1);
  });

  test("1,000 messages each way in one call arrive whole and in order", async () => {
    const sizes = Array.from({ length: 1000 }, (_, i) => i % 200);
    const outcome = await call({ requests: sizes.map((size) => outputRequest(size)) });
    assert.equal(outcome.status?.code, Code.OK);
    assert.deepEqual(replySizes(outcome.replies), sizes);
  });

  test("a backend error mid-stream reaches the page as the status, the replies before it kept", async () => {
    const failing = b64(
      encodeMessage(testing.StreamingOutputCallRequest, {
        responseParameters: [],
        responseStatus: { code: Code.FAILED_PRECONDITION, message: "no more: 100% ✓" },
      }),
    );
    const outcome = await call({ requests: [outputRequest(4), failing], sending: "never-finish" });
    assert.deepEqual(replySizes(outcome.replies), [4]);
    assert.deepEqual(outcome.status, { code: Code.FAILED_PRECONDITION, message: "no more: 100% ✓" });
  });

  test("a cancel from the page (the client closes its WebSocket) reaches the backend", async () => {
    const before = log.observations.length;
    const outcome = await call({
      requests: [outputRequest(1), outputRequest(2)],
      sending: "never-finish",
      cancelAfterReplies: 1,
    });
    assert.equal(outcome.status, undefined);
    await waitFor(() =>
      log.observations.slice(before).find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
    );
  });

  test("a page origin the proxy does not allow is refused before the upgrade; nothing reaches the backend", async () => {
    const before = log.observations.length;
    const outcome = await call({ host: closedProxy.url, requests: [outputRequest(1)] });
    // The page cannot read the 403: the browser only reports a failed connection.
    assert.equal(outcome.status?.code, Code.UNKNOWN);
    assert.deepEqual(outcome.replies, []);
    assert.equal(log.observations.length, before);
  });
});
