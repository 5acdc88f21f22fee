// Serves the page scripts from their own loopback origin, so every call the page makes to the
// proxy is cross-origin and goes through CORS exactly as a real deployment's would.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** The page scripts in this folder, by the name the test loads them under. */
export const pageScripts = {
  "connect-web": "connect-web-page.ts",
  "grpc-web": "grpc-web-page.ts",
} as const;

export type PageName = keyof typeof pageScripts;

export interface PageServer {
  /** e.g. http://127.0.0.1:41234, the origin the proxy must allow. */
  readonly origin: string;
  /** The address of the HTML page that runs `name`'s script. */
  url(name: PageName): string;
  close(): Promise<void>;
}

/** Bundles every page script in memory and serves each as `/<name>.html` + `/<name>.js`. */
export async function startPageServer(): Promise<PageServer> {
  const { origin, close } = await serveFiles(await bundlePages());
  return { origin, url: (name) => `${origin}/${name}.html`, close };
}

/** Serves `files` by path from a loopback origin of their own, uncached. */
export async function serveFiles(
  files: ReadonlyMap<string, ServedFile>,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const file = files.get(request.url ?? "");
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

export interface ServedFile {
  type: string;
  body: string;
}

async function bundlePages(): Promise<Map<string, ServedFile>> {
  const names = Object.keys(pageScripts) as PageName[];
  const result = await build({
    entryPoints: names.map((name) => ({ in: here(pageScripts[name]), out: name })),
    outdir: "/", // nothing is written; this only names the outputs
    write: false,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // Bundle the workspace packages from their TypeScript sources, as the tests run them.
    conditions: ["source"],
    logLevel: "warning",
  });
  const files = new Map<string, ServedFile>();
  for (const name of names) {
    const script = result.outputFiles.find((file) => file.path === `/${name}.js`);
    if (!script) throw new Error(`esbuild produced no bundle for the ${name} page`);
    files.set(`/${name}.js`, { type: "text/javascript", body: script.text });
    files.set(`/${name}.html`, {
      type: "text/html; charset=utf-8",
      body: `<!doctype html><meta charset="utf-8"><title>${name}</title><script type="module" src="/${name}.js"></script>`,
    });
  }
  return files;
}

function here(file: string): string {
  return fileURLToPath(new URL(file, import.meta.url));
}
