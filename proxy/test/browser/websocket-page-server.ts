// Serves the WebSocket page script (improbable-websocket-page.ts) from its own loopback origin, so that its calls
// are cross-origin as in a real deployment and carry that Origin to the upgrade. page-server.ts does the same for
// the HTTP clients' pages; this one stays separate only until the proxy speaks WebSocket and the page joins those.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { type ServedFile, serveFiles } from "./page-server.js";
import type {
  WebSocketCallOutcome,
  WebSocketCallRequest,
  WebSocketPageGlobals,
} from "./websocket-page-api.js";

export interface WebSocketPageServer {
  /** e.g. http://127.0.0.1:41234: the Origin the page's upgrades carry. */
  readonly origin: string;
  readonly url: string;
  close(): Promise<void>;
}

export async function startWebSocketPageServer(): Promise<WebSocketPageServer> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("improbable-websocket-page.ts", import.meta.url))],
    write: false,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "warning",
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error("esbuild produced no bundle for the WebSocket page");
  const files = new Map<string, ServedFile>([
    ["/page.js", { type: "text/javascript", body: script }],
    [
      "/page.html",
      {
        type: "text/html; charset=utf-8",
        body: '<!doctype html><meta charset="utf-8"><title>websocket</title><script type="module" src="/page.js"></script>',
      },
    ],
  ]);
  const { origin, close } = await serveFiles(files);
  return { origin, url: `${origin}/page.html`, close };
}

/** Loads the page in a fresh tab and waits until its script is ready. */
export async function openWebSocketPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  const scriptErrors: string[] = [];
  page.on("pageerror", (error) => scriptErrors.push(error.message));
  await page.goto(url);
  try {
    await page.waitForFunction(() => "websocketInterop" in globalThis, undefined, { timeout: 5000 });
  } catch {
    await page.close();
    throw new Error(
      `the WebSocket page never became ready; script errors: ${scriptErrors.join("; ") || "none"}`,
    );
  }
  return page;
}

/** Makes one call from inside the page and returns what the client exposed. */
export function callOverWebSocket(page: Page, request: WebSocketCallRequest): Promise<WebSocketCallOutcome> {
  return page.evaluate(
    (request) => (globalThis as unknown as WebSocketPageGlobals).websocketInterop.call(request),
    request,
  );
}
