// `npm run build -w demo-app`: dist/ holds exactly what runs, each server entry point bundled into one file
// (the workspace packages and other dependencies stay imports), and the page in dist/web.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundlePage } from "./bundle-page.js";
import { builtPageDir } from "./paths.js";

/** The programs of dist/, each the file of src/ it is built from: `node dist/<name>.js`. */
export const ENTRY_POINTS = ["start", "greeter", "page"] as const;

const sourceDir = fileURLToPath(new URL(".", import.meta.url));

/** Bundles the entry points into `outDir`. */
export async function buildEntryPoints(outDir: string): Promise<void> {
  await build({
    entryPoints: ENTRY_POINTS.map((name) => join(sourceDir, `${name}.ts`)),
    outdir: outDir,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dist = join(builtPageDir, "..");
  // An earlier build's files (an older layout's entry points) must not stay behind as programs nobody ships.
  rmSync(dist, { recursive: true, force: true });
  await buildEntryPoints(dist);
  await bundlePage({ outDir: builtPageDir });
}
