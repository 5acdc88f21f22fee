// `npm start`: the greeter backend, and the page plus the gRPC-Web proxy on one origin.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { configOrExit, exitWith, startLoggedGreeter } from "./launch.js";
import { builtPageDir } from "./paths.js";
import { stopOnSignal } from "./shutdown.js";
import { startWebServer } from "./web-server.js";

const config = configOrExit();
if (!existsSync(join(builtPageDir, "index.html"))) {
  exitWith(`The page is not built (no ${builtPageDir}index.html): run \`npm run build\` first.`);
}

const greeter =
  config.greeterUrl === undefined
    ? await startLoggedGreeter(config).catch((error: unknown) => exitWith(listenFailure(error)))
    : undefined;
const upstream = config.greeterUrl ?? greeter?.url ?? "";
const web = await startWebServer({
  host: config.host,
  port: config.port,
  upstream,
  ...(config.adminPort !== undefined && { adminPort: config.adminPort }),
  pageDir: builtPageDir,
}).catch(async (error: unknown) => {
  await greeter?.close();
  return exitWith(listenFailure(error));
});

// Stops cleanly from the moment it says it serves.
stopOnSignal(async () => {
  await web.close();
  await greeter?.close();
});
console.log(`Greeter demo: http://localhost:${web.port}`);
console.log(`(proxying gRPC-Web to the greeter at ${upstream}; Ctrl-C stops)`);
if (config.adminPort !== undefined) console.log(`Health: http://localhost:${config.adminPort}/healthz`);

function listenFailure(error: unknown): string {
  const { code, port, message } = error as NodeJS.ErrnoException & { port?: number };
  return code === "EADDRINUSE"
    ? `Port ${port} is already in use: stop what holds it, or choose others with PORT, GREETER_PORT, ADMIN_PORT.`
    : `Could not start: ${message}`;
}
