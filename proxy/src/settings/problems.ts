// What is wrong with a setting, and where it came from: every check of flags, environment, config file and
// plugin options says its problems in these terms, so each can name its source.

/** Where a value sits in a config file or the plugin's options: keys and array indexes from the top. */
export type KeyPath = readonly (string | number)[];

/** Something wrong at one key of a config file or of the plugin's options. */
export interface ConfigProblem {
  readonly path: KeyPath;
  readonly message: string;
  /** Point at the key itself (an unknown key) rather than at its value. */
  readonly atKey?: boolean;
}

/** `upstreams.greeter.addresses[0]`; keys that are not plain names are quoted. */
export function keyName(path: KeyPath): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((key, i) => {
      if (typeof key === "number") return `[${key}]`;
      if (!/^[A-Za-z_][\w-]*$/.test(key)) return `[${JSON.stringify(key)}]`;
      return i === 0 ? key : `.${key}`;
    })
    .join("");
}

/** The known name `name` was most likely meant to be, if one is close enough. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** "unknown key", with the known key it was most likely meant to be, or the keys there are. */
export function unknownName(what: string, name: string, known: readonly string[]): string {
  const best = closestName(name, known);
  return best
    ? `unknown ${what} (did you mean "${best}"?)`
    : `unknown ${what} (known here: ${known.join(", ")})`;
}

/** Levenshtein distance, for typo suggestions on a handful of short names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
