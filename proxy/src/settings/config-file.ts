import { readFileSync } from "node:fs";
import { Settings } from "typebox/system";
import Value from "typebox/value";
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { type ConfigProblem, type KeyPath, keyName, unknownName } from "./problems.js";
import { type ConfigFile, ConfigFileSchema } from "./schema.js";

/** A config file that parsed; its values are still to be checked, and trusted only where it fits the schema. */
export interface ConfigFileValues {
  readonly file: string;
  readonly values: ConfigFile;
  /** What does not fit the schema (unknown keys, a list where a map belongs), in the order of the file. */
  readonly shapeProblems: readonly ConfigProblem[];
  /** `bridge.yaml:12:5: upstreams.greeter.addresses[0]: <message>`, for a problem found later. */
  describe(problem: ConfigProblem): string;
  /** Each problem described, in the order of the file. */
  report(problems: readonly ConfigProblem[]): string[];
}

/** A file that could not be read or is not YAML/JSON: its errors; else its values. */
export type ConfigFileParse =
  | { readonly ok: true; readonly config: ConfigFileValues }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Reads and parses `file`; a file that cannot be read is one error naming it. */
export function loadConfigFile(file: string): ConfigFileParse {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { ok: false, errors: [`${file}: cannot read the config file: ${(error as Error).message}`] };
  }
  return parseConfigFile(file, text);
}

/**
 * YAML or JSON (JSON is YAML's flow style, so one parser reads both and knows every value's line).
 * Duplicate keys are errors: a second `listen:` would otherwise silently win.
 */
export function parseConfigFile(file: string, text: string): ConfigFileParse {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => `${position(e.pos[0])}: ${e.message}`) };
  }
  const describe = (problem: ConfigProblem) =>
    `${position(offsetOf(doc, problem))}: ${keyName(problem.path)}: ${problem.message}`;
  const report = (problems: readonly ConfigProblem[]) =>
    [...problems].sort((a, b) => offsetOf(doc, a) - offsetOf(doc, b)).map(describe);
  const js: unknown = doc.toJS() ?? {};
  const values = (typeof js === "object" && js !== null && !Array.isArray(js) ? js : {}) as ConfigFile;
  const { problems, truncated } = schemaProblems(js);
  const shapeProblems = [...problems].sort((a, b) => offsetOf(doc, a) - offsetOf(doc, b));
  if (truncated) shapeProblems.push({ path: [], message: "more problems may show once these are fixed" });
  return { ok: true, config: { file, values, shapeProblems, describe, report } };
}

/**
 * The schema's complaints, one per key, in words an operator reads. TypeBox stops after
 * `maxErrors` (a guard against huge inputs); `truncated` says when it did.
 */
function schemaProblems(values: unknown): { problems: ConfigProblem[]; truncated: boolean } {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const errors = Value.Errors(ConfigFileSchema, values);
  for (const error of errors) {
    const path = pointerPath(error.instancePath);
    const params = error.params as Record<string, unknown>;
    let found: ConfigProblem[];
    switch (error.keyword) {
      case "boolean":
        // "schema is false": the same unknown key that "additionalProperties" reports.
        continue;
      case "additionalProperties":
        found = (params.additionalProperties as string[]).map((key) => ({
          path: [...path, key],
          message: unknownName("key", key, knownKeys(error.schemaPath)),
          atKey: true,
        }));
        break;
      case "required":
        found = (params.requiredProperties as string[]).map((key) => ({
          path,
          message: `missing the required key "${key}"`,
          atKey: true,
        }));
        break;
      case "type":
        found = [{ path, message: `expected ${article(String(params.type))}` }];
        break;
      case "enum":
        found = [{ path, message: `expected one of ${(params.allowedValues as string[]).join(", ")}` }];
        break;
      default:
        found = [{ path, message: error.message }];
    }
    for (const problem of found) {
      const key = keyName(problem.path);
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(problem);
    }
  }
  return { problems, truncated: errors.length >= Settings.Get().maxErrors };
}

/** The keys the schema at `schemaPath` (`#/properties/upstreams/patternProperties/^.*$`) allows. */
function knownKeys(schemaPath: string): string[] {
  let schema: unknown = ConfigFileSchema;
  for (const part of schemaPath.split("/").slice(1)) {
    schema = (schema as Record<string, unknown> | undefined)?.[
      part.replaceAll("~1", "/").replaceAll("~0", "~")
    ];
  }
  return Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** JSON pointer (`/upstreams/a~1b/addresses/0`) → key path; numbers are array indexes. */
function pointerPath(pointer: string): KeyPath {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => {
      const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
      return /^\d+$/.test(key) ? Number(key) : key;
    });
}

/** Where the problem's key (or its value) starts; the closest enclosing value when it is not in the file. */
function offsetOf(doc: Document, { path, atKey }: ConfigProblem): number {
  let node = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const [i, key] of path.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (pair && atKey && i === path.length - 1) return (pair.key as Node).range?.[0] ?? offset;
      next = pair?.value;
    } else if (isSeq(node) && typeof key === "number") {
      next = node.items[key];
    }
    if (!next || !(next as Node).range) break;
    node = next as Node;
    offset = node.range?.[0] ?? offset;
  }
  return offset;
}
