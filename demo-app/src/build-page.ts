// `npm run build` step: bundles the web page into dist/web, which `npm start` serves.
import { bundlePage } from "./bundle-page.js";
import { builtPageDir } from "./paths.js";

await bundlePage({ outDir: builtPageDir });
