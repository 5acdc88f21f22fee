// The plugin's and buildServer's options checked against the settings' rows: an unknown option or a value of
// the wrong kind throws at registration, naming every one, so a bad option fails start-up and never a call.
import { type ConfigProblem, closestName, keyName } from "./problems.js";
import {
  SETTING_KEYS,
  SETTINGS,
  type Setting,
  type SettingKey,
  type SettingValue,
  type TakenBy,
} from "./registry.js";

/** Options the plugin had under another name before they became the config file's keys. */
const RENAMED: Readonly<Record<string, SettingKey>> = {
  maxConcurrentCallsPerConnection: "maxCallsPerConnection",
  healthCheckService: "healthCheck",
};

/**
 * Every unknown key of `options` and every setting of the wrong kind. `takenBy` picks the rows the caller takes;
 * `others` are the options that are code rather than settings (interceptors, a resolver…).
 */
export function optionProblems(
  options: object,
  takenBy: readonly TakenBy[],
  others: readonly string[],
): ConfigProblem[] {
  const keys = SETTING_KEYS.filter((key) => takenBy.includes((SETTINGS[key] as Setting).takenBy));
  const known = [...keys, ...others];
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!known.includes(key)) {
      problems.push({ path: [key], message: unknownOption(key, known) });
      continue;
    }
    if (!(keys as string[]).includes(key)) continue;
    const checked = (SETTINGS[key as SettingKey] as Setting).kind.check(value);
    if (!checked.ok) problems.push({ path: [key], message: checked.why });
  }
  return problems;
}

/** "unknown option", with what it is called now or was likely meant to be. */
function unknownOption(key: string, known: readonly string[]): string {
  const stem = key.endsWith("Ms") ? key.slice(0, -2) : undefined;
  const renamed = RENAMED[key] ?? (stem !== undefined && known.includes(stem) ? stem : undefined);
  if (renamed !== undefined) {
    const example = stem === undefined ? "" : ', a duration like "30s"';
    return `unknown option: it is "${renamed}" now${example}, as in the config file`;
  }
  const best = closestName(key, known);
  return best ? `unknown option (did you mean "${best}"?)` : "unknown option";
}

/** Throws one TypeError listing every problem, each with its key; `what` names what was given them. */
export function throwIfProblems(what: string, problems: readonly ConfigProblem[]): void {
  if (problems.length === 0) return;
  const list = problems.map(({ path, message }) => `${keyName(path)}: ${message}`);
  throw new TypeError(`${what}: ${list.join("; ")}`);
}

/** The option's value as the proxy uses it (ms for a duration), or its default; checked by optionProblems first. */
export function optionValue<K extends SettingKey>(
  options: Partial<Record<SettingKey, unknown>>,
  key: K,
): SettingValue<K> | undefined {
  const row = SETTINGS[key] as Setting<SettingValue<K>>;
  const value = options[key];
  if (value === undefined) return row.default;
  const checked = row.kind.check(value);
  if (!checked.ok) throw new TypeError(`${key}: ${checked.why}`);
  return checked.value;
}
