// The proxy image's HEALTHCHECK: GET /healthz on the admin listener of the CLI that runs as the container's
// process 1, found the way that CLI found it (its flags, its environment, its config file). Exit 0 when it
// answers 200, or when no admin listener is configured (nothing to ask); 1 otherwise.
// `node docker-healthcheck.mjs [PID]`: another process than 1, for tests.
import { readFileSync } from "node:fs";
import { parseCli } from "./proxy/dist/cli/arguments.js";

const pid = process.argv[2] ?? "1";
const nulSeparated = (file) => readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0").filter(Boolean);
const argv = nulSeparated("cmdline");
const env = Object.fromEntries(
  nulSeparated("environ").map((entry) => [
    entry.slice(0, entry.indexOf("=")),
    entry.slice(entry.indexOf("=") + 1),
  ]),
);
// The CLI's arguments follow its script; a relative --config is relative to its working directory.
process.chdir(`/proc/${pid}/cwd`);
const parsed = parseCli(argv.slice(argv.findIndex((arg) => arg.endsWith("cli.js")) + 1), env);
const admin = parsed.kind === "run" ? parsed.config.admin : undefined;
if (admin === undefined) process.exit(0);

const unspecified = { "0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1" };
const host = unspecified[admin.host] ?? (admin.host.includes(":") ? `[${admin.host}]` : admin.host);
const healthy = await fetch(`http://${host}:${admin.port}/healthz`, {
  signal: AbortSignal.timeout(2000),
}).then(
  (response) => response.ok,
  () => false,
);
process.exit(healthy ? 0 : 1);
