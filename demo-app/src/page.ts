// The page alone, calling a proxy that runs apart (Docker Compose runs the proxy's own image): PROXY_URL,
// PORT, HOST. The proxy must allow this page's origin.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { configOrExit, exitWith } from "./launch.js";
import { startPageServer } from "./page-server.js";
import { builtPageDir } from "./paths.js";
import { stopOnSignal } from "./shutdown.js";

const config = configOrExit();
if (config.proxyUrl === undefined)
  exitWith("PROXY_URL is required: the proxy's address as the browser reaches it.");
if (!existsSync(join(builtPageDir, "index.html"))) {
  exitWith(`The page is not built (no ${builtPageDir}index.html): run \`npm run build\` first.`);
}
const page = await startPageServer({
  host: config.host,
  port: config.port,
  pageDir: builtPageDir,
  proxyUrl: config.proxyUrl,
}).catch((error: unknown) => exitWith(`Could not start: ${(error as Error).message}`));
stopOnSignal(() => page.close());
console.log(`Greeter page: http://localhost:${page.port}`);
console.log(`(calling the proxy at ${config.proxyUrl}; Ctrl-C stops)`);
