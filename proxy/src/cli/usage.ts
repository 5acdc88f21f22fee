import { defaultText, SETTING_KEYS, SETTINGS, type Setting } from "../settings/registry.js";

const COLUMN = 34;

/** --help: every setting's flag from the registry, with its environment variable, config key and default. */
export const USAGE = [
  "Usage: grpc-web-bridge --upstream URL [options]",
  "       grpc-web-bridge --config FILE [options]",
  "       grpc-web-bridge --check-config FILE [options]",
  "",
  "Accepts gRPC-Web from browsers and calls native gRPC backends over HTTP/2.",
  "A flag wins over its environment variable, which wins over the config file's key, which wins over the default.",
  "Durations take a unit: 500ms, 30s, 5m, 1h.",
  "",
  "Options:",
  ...SETTING_KEYS.map((key) => option(key, SETTINGS[key] as Setting)),
  `  ${"--version".padEnd(COLUMN)} print the version and exit`,
  `  ${"--help".padEnd(COLUMN)} show this text`,
  "",
  "All settings, upstreams and routes: docs/settings.md.",
].join("\n");

function option(key: string, row: Setting): string {
  const sources = [
    row.env && `env ${row.env}`,
    !row.flagOnly && `config key ${key}${row.perUpstream ? " (also per upstream)" : ""}`,
    (row.default !== undefined || row.unset) && `default: ${defaultText(row)}`,
  ].filter(Boolean);
  const flag = `--${row.flag}${row.arg ? ` ${row.arg}` : ""}`;
  const lines = [`  ${flag.padEnd(COLUMN)} ${row.help}`];
  if (sources.length > 0) lines.push(`  ${"".padEnd(COLUMN)} ${sources.join("; ")}`);
  // The texts are the settings table's, in Markdown.
  return lines.join("\n").replaceAll("`", "");
}
