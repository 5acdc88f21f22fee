// The settings table of docs/settings.md, made from the registry; a test fails when the committed one is stale.
import { defaultText, SETTING_KEYS, SETTINGS, type Setting } from "./registry.js";

export const TABLE_START =
  "<!-- settings table: made from proxy/src/settings/registry.ts by `npm run docs:settings`; do not edit by hand -->";
export const TABLE_END = "<!-- end of the settings table -->";

/** One row per setting: flag, environment variable, config key, plugin option, default, meaning. */
export function settingsTable(): string {
  const rows = SETTING_KEYS.map((key) => {
    const row = SETTINGS[key] as Setting;
    const flag = `\`--${row.flag}${row.arg ? ` ${row.arg}` : ""}\`${row.repeated ? " (repeatable)" : ""}`;
    const option =
      row.takenBy === "cli" ? "—" : `\`${key}\`${row.takenBy === "server" ? " (buildServer)" : ""}`;
    const fallback = row.default === undefined ? defaultText(row) : `\`${defaultText(row)}\``;
    return [
      flag,
      row.env ? `\`${row.env}\`` : "—",
      row.flagOnly ? "—" : `\`${key}\`${row.perUpstream ? "\\*" : ""}`,
      option,
      fallback,
      row.help,
    ].map((cell) => cell.replaceAll("|", "\\|"));
  });
  return [
    "| flag | environment variable | config key | plugin option | default | what |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((cells) => `| ${cells.join(" | ")} |`),
  ].join("\n");
}

/** `doc` with the table between its markers made anew. */
export function withSettingsTable(doc: string): string {
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`the markers of the settings table are missing:\n${TABLE_START}\n${TABLE_END}`);
  return `${doc.slice(0, start + TABLE_START.length)}\n${settingsTable()}\n${doc.slice(end)}`;
}
