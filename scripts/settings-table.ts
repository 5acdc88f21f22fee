// Writes the settings table of docs/settings.md from the registry: `npm run docs:settings`.
import { readFileSync, writeFileSync } from "node:fs";
import { withSettingsTable } from "../proxy/src/settings/table.js";

const DOC = new URL("../docs/settings.md", import.meta.url);
const before = readFileSync(DOC, "utf8");
const after = withSettingsTable(before);
writeFileSync(DOC, after);
console.log(after === before ? "docs/settings.md is up to date" : "docs/settings.md: settings table written");
