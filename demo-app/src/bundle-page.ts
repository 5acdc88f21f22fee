import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";
import { pageSourceDir } from "./paths.js";

export interface BundleOptions {
  outDir: string;
  /** The proxy's address when the page is served from another origin; same origin when omitted. */
  proxyUrl?: string;
}

/** Builds the page into `outDir`: index.html, main.js (one ES module) and main.css. */
export async function bundlePage(options: BundleOptions): Promise<void> {
  await mkdir(options.outDir, { recursive: true });
  await build({
    entryPoints: [join(pageSourceDir, "main.ts"), join(pageSourceDir, "main.css")],
    outdir: options.outDir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: true,
    // Bundle the workspace packages from their TypeScript sources, so the page doesn't depend on
    // the order in which the workspaces were built.
    conditions: ["source"],
    define: { PROXY_URL: JSON.stringify(options.proxyUrl ?? "") },
    logLevel: "warning",
  });
  await copyFile(join(pageSourceDir, "index.html"), join(options.outDir, "index.html"));
}
