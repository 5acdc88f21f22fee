import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type BuildOptions, build } from "esbuild";
import { pageSourceDir } from "./paths.js";

export interface BundleOptions {
  outDir: string;
  /** The proxy's address when the page is served from another origin; same origin when omitted. */
  proxyUrl?: string;
}

/** Builds the page into `outDir`: index.html, main.js (one ES module) and main.css. */
export async function bundlePage(options: BundleOptions): Promise<void> {
  await copyIndexHtml(options.outDir);
  await build(pageBuildOptions(options));
}

/** esbuild's settings for the page, shared by the build and the dev server. */
export function pageBuildOptions(options: BundleOptions): BuildOptions {
  return {
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
  };
}

export async function copyIndexHtml(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await copyFile(join(pageSourceDir, "index.html"), join(outDir, "index.html"));
}
