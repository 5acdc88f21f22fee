// parseCli's two answers, for tests that expect one of them.
import assert from "node:assert/strict";
import { type CliConfig, parseCli } from "../../src/cli/arguments.js";

/** The config `argv` and `env` make; fails the test on anything else. */
export function cliConfig(argv: string[], env: NodeJS.ProcessEnv = {}): CliConfig {
  const parsed = parseCli(argv, env);
  if (parsed.kind !== "run") assert.fail(`expected a config, got ${JSON.stringify(parsed)}`);
  return parsed.config;
}

/** The error message `argv` and `env` make; fails the test on anything else. */
export function cliError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const parsed = parseCli(argv, env);
  if (parsed.kind !== "error") assert.fail(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}
