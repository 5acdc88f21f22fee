// Browser clients against a proxy that compresses its responses (--response-compression br and gzip): the official
// grpc-web runtime and connect-web keep working, because Chromium undoes Content-Encoding itself before the
// client sees a byte. Headless Chromium, page and proxy on two loopback origins.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../testing/browser.js";
import { callFrom, openInteropPage } from "./browser/interop-page.js";
import type { GreeterMethod } from "./browser/page-api.js";
import { type PageName, type PageServer, startPageServer } from "./browser/page-server.js";
import { type Backend, startBackend } from "./support/backends.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const clients: Array<{ page: PageName; formats: string[] }> = [
  { page: "grpc-web", formats: ["text", "binary"] },
  { page: "connect-web", formats: ["binary", "json"] },
];
/** Each reply this long: well past the proxy's minimum for compressing. */
const REPLY_BYTES = 4000;
/** Chromium offers br over HTTPS and to loopback addresses, which it counts as secure: each setting gets its own. */
const SETTINGS = ["br", "gzip"] as const;

let backend: Backend;
let pages: PageServer;
const proxies = {} as Record<(typeof SETTINGS)[number], RunningProxy>;
let browser: Browser;

before(async () => {
  [backend, pages, browser] = await Promise.all([
    startBackend("connect-node"),
    startPageServer(),
    launchChromium(),
  ]);
  for (const responseCompression of SETTINGS)
    proxies[responseCompression] = await startProxy(backend.url, {
      allowedOrigins: [pages.origin],
      responseCompression,
    });
});

after(async () => {
  await browser?.close();
  for (const proxy of Object.values(proxies)) await proxy.close();
  await pages?.close();
  await backend?.close();
});

for (const client of clients) {
  describe(`${client.page} in Chromium, responses compressed by the proxy`, () => {
    let page: Page;
    /** Content-Encoding of each call's response, as Chromium received it from the proxy. */
    const codings: Array<Promise<string | undefined>> = [];
    before(async () => {
      page = await openInteropPage(browser, pages.url(client.page));
      page.on("response", (response) => {
        if (response.request().method() !== "POST") return;
        codings.push(response.allHeaders().then((headers) => headers["content-encoding"]));
      });
    });
    after(() => page?.close());

    for (const [coding, format] of SETTINGS.flatMap((c) => client.formats.map((f) => [c, f] as const))) {
      const call = (method: GreeterMethod, metadata: Record<string, string>) =>
        callFrom(page, { proxyUrl: proxies[coding].url, format, method, name: "Ada", metadata });

      test(`${coding}, ${format}: a unary reply, compressed on the wire, decoded by the browser`, async () => {
        codings.length = 0;
        const outcome = await call("SayHello", {
          "x-reply-bytes": String(REPLY_BYTES),
          "x-echo-user": "ada",
        });
        assert.equal(outcome.error, undefined, JSON.stringify(outcome.error));
        assert.deepEqual(
          outcome.replies.map((reply) => reply.message),
          ["x".repeat(REPLY_BYTES)],
        );
        assert.equal(outcome.trailers["x-trailer-user"], "ada");
        assert.deepEqual(await Promise.all(codings), [coding]);
      });

      test(`${coding}, ${format}: a compressed server stream`, async () => {
        codings.length = 0;
        const outcome = await call("SayHelloStreamReply", {
          "x-reply-bytes": String(REPLY_BYTES),
          "x-stream-count": "3",
        });
        assert.equal(outcome.error, undefined, JSON.stringify(outcome.error));
        assert.deepEqual(
          outcome.replies.map((reply) => reply.message),
          Array(3).fill("x".repeat(REPLY_BYTES)),
        );
        assert.deepEqual(await Promise.all(codings), [coding]);
      });
    }
  });
}
