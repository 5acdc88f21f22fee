// Which packages a piece of code loads, seen from a fresh Node process: for "loaded only when used" checks.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const REGISTER = new URL("./load-probe-register.mjs", import.meta.url).pathname;

/** A module under proxy/src, as `code` imports it. */
export function sourceUrl(path: string): string {
  return new URL(`../../src/${path}`, import.meta.url).href;
}

/**
 * Runs `code` (an ES module body, with top-level await) in a new process with `env` added, and returns the
 * names of the npm packages it loaded, such as `pino` or `@opentelemetry/api`.
 */
export async function packagesLoadedBy(code: string, env: NodeJS.ProcessEnv = {}): Promise<Set<string>> {
  const dir = await mkdtemp(join(tmpdir(), "load-probe-"));
  const file = join(dir, "loaded.txt");
  try {
    await promisify(execFile)(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--import", REGISTER, "--input-type=module", "-e", code],
      { env: { ...cleanEnv(), ...env, LOAD_PROBE_FILE: file }, timeout: 60_000 },
    );
    const loaded = await readFile(file, "utf8");
    return new Set(
      Array.from(loaded.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g), (match) => match[1] ?? ""),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The test's own environment without any OpenTelemetry setting, so a probe decides them alone. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_")));
}
