import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../testing/browser.js";
import { freePort } from "../../testing/net.js";
import { startDemo } from "./support/demo-process.js";
import { outcome, replies } from "./support/page.js";

let browser: Browser | undefined;
after(() => browser?.close());

test("npm run dev: the page on esbuild's dev server calls the proxy cross-origin, and it's allowed", async (t) => {
  const dev = await startDemo({ DEV_PORT: String(await freePort()) }, "dev");
  t.after(() => dev.kill());
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(dev.url);
  await page.click("#say-hello");
  assert.equal((await outcome(page)).code, "OK");
  assert.match((await replies(page))[0] ?? "", /^Hello, Ada!/);
  assert.match(
    dev.output(),
    /calling the proxy at http:\/\/localhost:\d+, which allows http:\/\/localhost:\d+/,
  );
  assert.notEqual(new URL(dev.url).port, /proxy at http:\/\/localhost:(\d+)/.exec(dev.output())?.[1]);
});
