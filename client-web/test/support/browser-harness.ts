// One origin serves the test page, the proxy listens on another, and the page calls the proxy
// from real headless Chromium. Under /gateway/ the page's origin answers every call with a
// gateway's HTML 502 page, as a reverse proxy in front of a gRPC-Web proxy that is down does.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../../testing/browser.js";
import type { BidiReport, CallOutcome, CallSpec } from "./page.js";
import type { WorkerReport } from "./worker.js";

export interface PageSession {
  /** The page's origin, to allow on the proxy. */
  readonly origin: string;
  run(spec: CallSpec): Promise<CallOutcome>;
  runInWorker(baseUrl: string): Promise<WorkerReport>;
  runBidi(baseUrl: string, names: string[]): Promise<BidiReport>;
  close(): Promise<void>;
}

/** Where, on the page's own origin, a gateway answers with an HTML 502 page. */
export const gatewayPath = "/gateway";
const badGateway =
  "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";

export async function openTestPage(): Promise<PageSession> {
  const scripts = await bundleScripts();
  const html =
    '<!doctype html><meta charset="utf-8"><title>client-web test</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const script = scripts.get(req.url ?? "");
    if (script !== undefined) res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (req.url?.startsWith(`${gatewayPath}/`))
      res.writeHead(502, { "content-type": "text/html" }).end(badGateway);
    else res.writeHead(200, { "content-type": "text/html" }).end(html);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.goto(origin);
    await page.waitForFunction(() => "runCall" in globalThis);
    const opened = browser;
    return {
      origin,
      // Strings, not functions: the test runner's transpiler would add helpers the page lacks.
      async run(spec) {
        const outcome = (await page.evaluate(`runCall(${JSON.stringify(spec)})`)) as CallOutcome;
        if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join("; ")}`);
        return outcome;
      },
      runInWorker: async (baseUrl) =>
        (await page.evaluate(`runInWorker(${JSON.stringify(baseUrl)})`)) as WorkerReport,
      runBidi: async (baseUrl, names) =>
        (await page.evaluate(`runBidi(${JSON.stringify(baseUrl)}, ${JSON.stringify(names)})`)) as BidiReport,
      async close() {
        await opened.close();
        server.close();
      },
    };
  } catch (error) {
    await browser?.close();
    server.close();
    throw error;
  }
}

/** How a test page's scripts are bundled: in memory, from the packages' TypeScript sources. */
export const pageBuildOptions = {
  bundle: true,
  format: "esm",
  target: "es2022",
  conditions: ["source"],
  write: false,
  logLevel: "error",
} satisfies BuildOptions;

/** The page and worker scripts by URL path, bundled in memory. */
async function bundleScripts(): Promise<Map<string, string>> {
  const result = await build({
    entryPoints: ["page.ts", "worker.ts"].map((name) => fileURLToPath(new URL(name, import.meta.url))),
    outdir: "/",
    ...pageBuildOptions,
  });
  return new Map(result.outputFiles.map((file) => [file.path, file.text]));
}
