import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../testing/browser.js";
import { DEAD_PORT, freePort, waitFor } from "../../testing/net.js";
import { bundlePage } from "../src/bundle-page.js";
import { builtPageDir } from "../src/paths.js";
import { type DemoProcess, startDemo } from "./support/demo-process.js";
import { assertPaced } from "./support/pacing.js";
import { fillRequest, outcome, replies, setMetadata, tableRows, text } from "./support/page.js";

// What the issue asks of the demo, in a real Chromium against what `npm start` starts.
const screenshotDir = fileURLToPath(new URL("../../test-output/demo-app/", import.meta.url));

let browser: Browser;
let demo: DemoProcess;
let page: Page;

before(async () => {
  await bundlePage({ outDir: builtPageDir });
  browser = await launchChromium();
  demo = await startDemo();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(demo.url);
});
after(async () => {
  await browser?.close();
  await demo?.kill();
});

test("Say hello: the reply, OK, metadata echoed as headers, trailers and the elapsed time", async () => {
  await fillRequest(page, { name: "Ada", deadline: "" });
  await page.click("#say-hello");
  assert.deepEqual(await outcome(page), { code: "OK", message: "The call completed.", hint: "" });
  assert.deepEqual(
    (await replies(page)).map((reply) => reply.replace(/\s*\+\d+ ms$/, "")),
    ["Hello, Ada!"],
  );
  assert.ok((await tableRows(page, "headers")).includes("echo-x-client: greeter-page"));
  const trailers = await tableRows(page, "trailers");
  assert.ok(trailers.includes("grpc-status: 0"), trailers.join("\n"));
  assert.ok(trailers.includes("x-replies-sent: 1"), trailers.join("\n"));
  assert.match(await text(page, "#elapsed"), /^\d+ ms$/);
});

test("Stream greetings: the replies arrive one by one, then OK", async () => {
  await mkdir(screenshotDir, { recursive: true });
  await fillRequest(page, { name: "Grace", deadline: "" });
  await setMetadata(page, "x-reply-count", "4");
  await setMetadata(page, "x-reply-delay-ms", "300");
  await page.click("#stream");
  // Each count is seen, inside the page, while the call is still running: a reply shows as soon as it arrives.
  for (const count of [1, 2, 3]) {
    const seen = await page.waitForFunction((n) => {
      const shown = document.querySelectorAll("#replies li").length;
      const running = document.querySelector("#status-code")?.classList.contains("running");
      return shown >= n && { shown, running };
    }, count);
    assert.deepEqual(await seen.jsonValue(), { shown: count, running: true });
  }
  assert.equal((await outcome(page)).code, "OK");
  const shown = await replies(page);
  assert.equal(shown.length, 4);
  assertPaced(
    shown.map((reply) => Number(/\+(\d+) ms$/.exec(reply)?.[1])),
    300,
  );
  assert.match(shown[3] ?? "", /^Hello, Grace! \(4 of 4\)/);
  await page.screenshot({ path: `${screenshotDir}streaming.png`, fullPage: true });
});

test("a 100 ms deadline against a slow stream: DEADLINE_EXCEEDED, and the backend stops", async () => {
  await setMetadata(page, "x-reply-count", "5");
  await setMetadata(page, "x-reply-delay-ms", "1000");
  await fillRequest(page, { name: "Grace", deadline: "100" });
  await page.click("#stream");
  const shown = await outcome(page);
  assert.equal(shown.code, "DEADLINE_EXCEEDED");
  assert.match(shown.hint, /raise the deadline/);
  // The first reply is sent at once but may or may not beat a 100 ms deadline; the second never does.
  assert.ok((await replies(page)).length <= 1);
  // Well before the 4 s the stream would take: the deadline reached the backend and ended its work.
  await waitFor(
    () => /SayHelloStreamReply → (DEADLINE_EXCEEDED|CANCELLED) after [01] repl/.exec(demo.output()),
    2000,
  );
});

test("Cancel ends a running stream: CANCELLED on the page and in the backend", async () => {
  await fillRequest(page, { name: "Grace", deadline: "" });
  await setMetadata(page, "x-reply-delay-ms", "500");
  await page.click("#stream");
  await page.waitForSelector("#replies li");
  assert.equal(await page.locator("#cancel").isEnabled(), true);
  await page.click("#cancel");
  const shown = await outcome(page);
  assert.equal(shown.code, "CANCELLED");
  assert.equal(shown.message, "cancelled from the page");
  assert.ok((await replies(page)).length < 5);
  assert.equal(await page.locator("#cancel").isEnabled(), false);
  await waitFor(() => /SayHelloStreamReply → CANCELLED after \d replies?/.exec(demo.output()), 2000);
});

test("an empty name: INVALID_ARGUMENT with the backend's message", async () => {
  await fillRequest(page, { name: "", deadline: "" });
  await page.click("#say-hello");
  const shown = await outcome(page);
  assert.equal(shown.code, "INVALID_ARGUMENT");
  assert.equal(shown.message, "name must not be empty: type the name of the person to greet");
});

test("with the greeter backend down the page shows UNAVAILABLE, not a blank page", async (t) => {
  const nobody = `http://127.0.0.1:${DEAD_PORT}`;
  const adminPort = await freePort();
  const orphan = await startDemo({ GREETER_URL: nobody, ADMIN_PORT: String(adminPort) });
  t.after(() => orphan.kill());
  const orphanPage = await browser.newPage();
  t.after(() => orphanPage.close());
  await orphanPage.goto(orphan.url);
  await orphanPage.click("#say-hello");
  const shown = await outcome(orphanPage);
  assert.equal(shown.code, "UNAVAILABLE");
  assert.match(shown.hint, /could not reach the greeter backend/);
  // The proxy's own health endpoint, which Docker Compose probes, tells the same story.
  const health = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
  assert.equal(health.status, 200);
  const report = (await health.json()) as { upstreams: { connected: boolean }[] };
  assert.deepEqual(
    report.upstreams.map((upstream) => upstream.connected),
    [false],
  );
});

/** Waits until the bidi panel shows `count` replies. */
const bidiReplies = async (count: number) => {
  await page.waitForFunction((n) => document.querySelectorAll("#bidi-replies li").length >= n, count);
  return page.locator("#bidi-replies li").allTextContents();
};

test("Bidi panel: each name sent comes back on the same open WebSocket call; End sending shows the trailers", async () => {
  await page.click("#bidi-open");
  assert.equal(await text(page, "#bidi-status"), "OPEN");
  await page.fill("#bidi-name", "Ada");
  await page.click("#bidi-send");
  // The first greeting is back while the call is still open: the reply did not wait for the request to end.
  assert.deepEqual(await bidiReplies(1), ["Hello, Ada!"]);
  assert.equal(await text(page, "#bidi-status"), "OPEN");
  await page.fill("#bidi-name", "Grace");
  await page.click("#bidi-send");
  assert.deepEqual(await bidiReplies(2), ["Hello, Ada!", "Hello, Grace!"]);
  await page.click("#bidi-finish");
  await page.waitForFunction(() => document.querySelector("#bidi-status")?.textContent === "OK");
  const trailers = await tableRows(page, "bidi-trailers");
  assert.ok(trailers.includes("grpc-status: 0"), trailers.join("\n"));
  assert.ok(trailers.includes("x-replies-sent: 2"), trailers.join("\n"));
  assert.equal(await page.locator("#bidi-open").isEnabled(), true);
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: `${screenshotDir}bidi.png`, fullPage: true });
});

test("Bidi panel: Cancel ends the open call: CANCELLED on the page and in the backend", async () => {
  await page.click("#bidi-open");
  await page.fill("#bidi-name", "Alan");
  await page.click("#bidi-send");
  assert.deepEqual(await bidiReplies(1), ["Hello, Alan!"]);
  await page.click("#bidi-cancel");
  await page.waitForFunction(() => document.querySelector("#bidi-status")?.textContent === "CANCELLED");
  assert.equal(await text(page, "#bidi-message"), "cancelled from the page");
  await waitFor(() => /SayHelloBidiStream → CANCELLED/.exec(demo.output()), 2000);
});

// Last: it stops the demo the other tests use.
test("Ctrl-C stops the demo cleanly: exit code 0, nothing left listening", async () => {
  const port = Number(new URL(demo.url).port);
  assert.equal(await demo.interrupt(), 0);
  assert.match(demo.output(), /Stopped\./);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(false)).once("error", () => resolve(true));
    socket.once("connect", () => socket.destroy());
  });
  assert.ok(refused, `port ${port} still accepts connections`);
});
