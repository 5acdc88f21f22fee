// Preloaded by load-probe.ts (--import): records what the process loads, through `import` (loader hooks) and
// through `require` (the CommonJS cache, written at exit), into the file LOAD_PROBE_FILE names.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const file = process.env.LOAD_PROBE_FILE;
register(new URL("./load-probe-hooks.mjs", import.meta.url), { data: { file } });
const require = createRequire(import.meta.url);
process.on("exit", () => appendFileSync(file, `${Object.keys(require.cache).join("\n")}\n`));
