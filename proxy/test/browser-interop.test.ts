// Real browser clients against the proxy: the page comes from one loopback origin and calls the
// proxy on another, in headless Chromium, with the official grpc-web runtime and with connect-web.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../testing/browser.js";
import { callFrom, openInteropPage } from "./browser/interop-page.js";
import type { CallOutcome, CallRequest, GreeterMethod } from "./browser/page-api.js";
import { type PageName, type PageServer, startPageServer } from "./browser/page-server.js";
import { type Backend, startBackend } from "./support/backends.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

interface ClientCase {
  page: PageName;
  formats: Array<{
    format: string;
    /** False where the client only hands out replies once the whole response is in. */
    streamsIncrementally: boolean;
  }>;
}

const clients: ClientCase[] = [
  {
    page: "grpc-web",
    formats: [
      { format: "text", streamsIncrementally: true },
      // The runtime reads binary responses as one ArrayBuffer, which XHR only fills at the end.
      { format: "binary", streamsIncrementally: false },
    ],
  },
  {
    page: "connect-web",
    formats: [
      { format: "binary", streamsIncrementally: true },
      { format: "json", streamsIncrementally: true },
    ],
  },
];

const NON_ASCII_MESSAGE = "Grüße aus Köln: 100% ✓ 🚀";

let backend: Backend;
let pages: PageServer;
let proxy: RunningProxy;
let browser: Browser;

before(async () => {
  [backend, pages, browser] = await Promise.all([
    startBackend("connect-node"),
    startPageServer(),
    launchChromium(),
  ]);
  proxy = await startProxy(backend.url, { allowedOrigins: [pages.origin] });
});

after(async () => {
  await browser?.close();
  await proxy?.close();
  await pages?.close();
  await backend?.close();
});

for (const client of clients) {
  describe(`${client.page} in Chromium, cross-origin`, () => {
    let page: Page;
    before(async () => {
      page = await openInteropPage(browser, pages.url(client.page));
    });
    after(() => page?.close());

    for (const { format, streamsIncrementally } of client.formats) {
      const call = (
        method: GreeterMethod,
        metadata: Record<string, string>,
        extra: Partial<CallRequest> = {},
      ) => callFrom(page, { proxyUrl: proxy.url, format, method, name: "Ada", metadata, ...extra });

      test(`${format}: unary call`, async () => {
        const outcome = await call("SayHello", {});
        assertSucceeded(outcome);
        assert.deepEqual(messages(outcome), ["Hello, Ada!"]);
      });

      test(`${format}: server stream of 3 replies, in order${streamsIncrementally ? ", each as it is sent" : ""}`, async () => {
        const outcome = await call("SayHelloStreamReply", {
          "x-stream-count": "3",
          "x-stream-interval-ms": "500",
        });
        assertSucceeded(outcome);
        assert.deepEqual(messages(outcome), ["Hello, Ada! #1", "Hello, Ada! #2", "Hello, Ada! #3"]);
        if (streamsIncrementally) {
          const [first, , last] = outcome.replies.map((reply) => reply.at);
          // The backend sends the last reply 1 s after the first; a client that buffered the stream would see
          // them together. The margin is wide because a busy machine can delay the first reply by a few 100 ms.
          assert.ok((last as number) - (first as number) >= 300, `first at ${first} ms, last at ${last} ms`);
        }
      });

      test(`${format}: an error keeps its code, non-ASCII message and trailers`, async () => {
        const outcome = await call("SayHello", {
          "x-fail-code": "9",
          "x-fail-message": encodeURIComponent(NON_ASCII_MESSAGE),
          "x-echo-user": "ada",
        });
        assert.deepEqual(outcome.error, { code: 9, message: NON_ASCII_MESSAGE });
        assert.deepEqual(outcome.replies, []);
        // Before any reply the status may come as headers (Trailers-Only), readable only if exposed.
        assert.equal(
          outcome.trailers["x-trailer-user"],
          "ada",
          `error metadata: ${Object.keys(outcome.trailers)}`,
        );
      });

      test(`${format}: an error after the first stream reply`, async () => {
        const outcome = await call("SayHelloStreamReply", {
          "x-stream-count": "3",
          "x-stream-interval-ms": "10",
          "x-fail-after": "1",
          "x-fail-code": "10",
          "x-fail-message": encodeURIComponent(NON_ASCII_MESSAGE),
        });
        assert.deepEqual(messages(outcome), ["Hello, Ada! #1"]);
        assert.deepEqual(outcome.error, { code: 10, message: NON_ASCII_MESSAGE });
      });

      test(`${format}: a deadline shorter than the work ends in DEADLINE_EXCEEDED and cancels the backend`, async () => {
        const tag = `deadline-${client.page}-${format}`;
        const startedAt = Date.now();
        const outcome = await call(
          "SayHello",
          { "x-sleep-ms": "5000", "x-echo-tag": tag },
          { timeoutMs: 300 },
        );
        const elapsed = Date.now() - startedAt;
        assert.equal(outcome.error?.code, 4, JSON.stringify(outcome.error));
        assert.ok(elapsed < 2500, `the call took ${elapsed} ms, the backend sleeps 5000`);
        const started = await backend.waitFor(
          (o) => o.event === "started" && o.metadata["x-echo-tag"] === tag,
        );
        // The deadline travelled to the backend as grpc-timeout, minus the time already spent.
        assert.ok(
          started.timeoutMs !== undefined && started.timeoutMs <= 300,
          `backend timeout ${started.timeoutMs}`,
        );
        await backend.waitFor((o) => o.event === "cancelled" && o.metadata["x-echo-tag"] === tag, 2000);
      });

      test(`${format}: metadata comes back as a readable header and trailer`, async () => {
        const outcome = await call("SayHello", { "x-echo-user": "ada" });
        assertSucceeded(outcome);
        assert.equal(
          outcome.headers["x-echo-user"],
          "ada",
          `headers the page saw: ${Object.keys(outcome.headers)}`,
        );
        assert.equal(outcome.trailers["x-trailer-user"], "ada", `trailers: ${Object.keys(outcome.trailers)}`);
      });

      test(`${format}: -bin metadata makes the round trip as base64`, async () => {
        const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]);
        const outcome = await call("SayHello", { "x-echo-data-bin": bytes.toString("base64") });
        assertSucceeded(outcome);
        assert.deepEqual(Buffer.from(outcome.headers["x-echo-data-bin"] ?? "", "base64"), bytes);
        assert.deepEqual(Buffer.from(outcome.trailers["x-trailer-data-bin"] ?? "", "base64"), bytes);
      });
    }
  });
}

function assertSucceeded(outcome: CallOutcome): void {
  assert.equal(outcome.error, undefined, `the call failed: ${JSON.stringify(outcome.error)}`);
}

function messages(outcome: CallOutcome): string[] {
  return outcome.replies.map((reply) => reply.message);
}
