// `npm run dev`: the page from esbuild's dev server (rebuilt on every save) on its own origin, calling
// the greeter through the proxy, which allows that origin. Run from the sources with tsx.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context } from "esbuild";
import { copyIndexHtml, pageBuildOptions } from "./bundle-page.js";
import { configOrExit, startLoggedGreeter } from "./launch.js";
import { stopOnSignal } from "./shutdown.js";
import { startWebServer } from "./web-server.js";

const devPort = Number(process.env.DEV_PORT || 5173);
const config = configOrExit();
const greeter = await startLoggedGreeter(config);
const pageOrigins = [`http://localhost:${devPort}`, `http://127.0.0.1:${devPort}`];
const outDir = await mkdtemp(join(tmpdir(), "greeter-page-"));
// The proxy serves its own copy of the page too; the dev server's is the one that reloads.
const proxy = await startWebServer({
  host: config.host,
  port: config.port,
  upstream: greeter.url,
  pageDir: outDir,
  allowedOrigins: pageOrigins,
});
await copyIndexHtml(outDir);
const page = await context(pageBuildOptions({ outDir, proxyUrl: `http://localhost:${proxy.port}` }));
await page.watch();
await page.serve({ host: "127.0.0.1", port: devPort, servedir: outDir });

console.log(`Greeter page (dev, rebuilt on save): http://localhost:${devPort}`);
console.log(
  `(calling the proxy at http://localhost:${proxy.port}, which allows ${pageOrigins.join(" and ")})`,
);
stopOnSignal(async () => {
  await page.dispose();
  await proxy.close();
  await greeter.close();
});
