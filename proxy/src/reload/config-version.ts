import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { CliConfig } from "../cli/arguments.js";

/** How many hex digits of the hash name a version: enough to tell configurations apart at a glance. */
const VERSION_DIGITS = 12;

/**
 * The version of a configuration, as /readyz shows it: a hash of its settings and of the bytes of every file it
 * read (a token list or a JWT key changes the version while the settings name the same path). Processes given the
 * same files and flags have the same version, so a rollout or the workers of one proxy can be compared.
 */
export function configVersion(config: CliConfig): string {
  const hash = createHash("sha256").update(JSON.stringify(config));
  for (const file of config.files) {
    hash.update(`\0${file}\0`);
    try {
      hash.update(readFileSync(file));
    } catch {
      // Gone since it was read: the version still differs from one with the file.
    }
  }
  return hash.digest("hex").slice(0, VERSION_DIGITS);
}
