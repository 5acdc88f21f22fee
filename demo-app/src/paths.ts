import { fileURLToPath } from "node:url";

// src/ and dist/ are siblings, so these resolve the same from the TypeScript sources and the build.
/** The page's sources: HTML, CSS and the TypeScript entry point. */
export const pageSourceDir = fileURLToPath(new URL("../src/web/", import.meta.url));
/** Where the build writes the page, and where `npm start` serves it from. */
export const builtPageDir = fileURLToPath(new URL("../dist/web/", import.meta.url));
