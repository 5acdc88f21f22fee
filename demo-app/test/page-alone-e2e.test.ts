// The layout docker-compose.yml runs, on loopback: the greeter, the proxy in front of it on an origin of its
// own, and the page served alone (page-server.ts), calling the proxy at the address it was given.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildServer } from "grpc-web-bridge";
import { launchChromium } from "../../testing/browser.js";
import { freePort } from "../../testing/net.js";
import { bundlePage } from "../src/bundle-page.js";
import { startGreeterServer } from "../src/greeter/server.js";
import { startPageServer } from "../src/page-server.js";
import { fillRequest, outcome, replies } from "./support/page.js";

test("the page served alone says hello through the proxy running apart, cross-origin", async (t) => {
  // A build of its own: other tests rebuild dist/web while this one runs.
  const pageDir = await mkdtemp(join(tmpdir(), "greeter-page-"));
  t.after(() => rm(pageDir, { recursive: true, force: true }));
  await bundlePage({ outDir: pageDir });
  const greeter = await startGreeterServer({ host: "127.0.0.1", port: 0 });
  t.after(() => greeter.close());
  const pagePort = await freePort();
  const origin = `http://127.0.0.1:${pagePort}`;
  const proxy = await buildServer({ upstream: greeter.url, allowedOrigins: [origin], logger: false });
  t.after(() => proxy.close());
  await proxy.listen({ host: "127.0.0.1", port: 0 });
  const proxyUrl = `http://127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
  const page = await startPageServer({ host: "127.0.0.1", port: pagePort, pageDir, proxyUrl });
  t.after(() => page.close());

  const browser = await launchChromium();
  t.after(() => browser.close());
  const tab = await browser.newPage();
  await tab.goto(origin);
  await fillRequest(tab, { name: "Ada", deadline: "" });
  await tab.click("#say-hello");
  assert.deepEqual(await outcome(tab), { code: "OK", message: "The call completed.", hint: "" });
  assert.deepEqual(
    (await replies(tab)).map((reply) => reply.replace(/\s*\+\d+ ms$/, "")),
    ["Hello, Ada!"],
  );
});
