// No Docker engine runs here, so a Dockerfile's build is replayed on this machine instead: each stage gets a
// folder standing for its root file system, COPY copies into it (from the build context, minus what
// .dockerignore keeps out, or from an earlier stage), and RUN runs in it with the stage's ENV. What the base
// image would hold is this machine's: its Node and npm. RUN commands must therefore use relative paths.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly name: string;
  readonly base: string;
  readonly instructions: Instruction[];
}

/** The stages of a Dockerfile, each with its instructions (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = "", args = ""] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword === "FROM") {
      const [base = "", , name] = args.split(/\s+/);
      stages.push({ name: name ?? String(stages.length), base, instructions: [] });
    } else {
      const stage = stages.at(-1);
      assert.ok(stage, `${keyword} before FROM`);
      stage.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The JSON (exec) form of CMD, ENTRYPOINT or HEALTHCHECK … CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  const parsed = JSON.parse(json) as unknown;
  assert.ok(Array.isArray(parsed), `exec form expected, got ${args}`);
  return parsed as string[];
}

/** The value of the last `keyword` instruction of `stage`. */
export function last(stage: Stage, keyword: string): string | undefined {
  return stage.instructions.findLast((i) => i.keyword === keyword)?.args;
}

export interface ReplayedImage {
  /** The folder standing for the final stage's `/`. */
  readonly root: string;
  /** The final stage's WORKDIR, on this machine. */
  readonly workdir: string;
  readonly env: Record<string, string>;
  readonly stage: Stage;
}

/** Simple .dockerignore patterns: `**\/name`, `**\/*.ext` and top-level names. */
function ignoredBy(context: string): (path: string) => boolean {
  const patterns = readFileSync(join(context, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return (path) => {
    const parts = relative(context, path).split("/");
    const name = parts.at(-1) ?? "";
    return patterns.some((pattern) => {
      if (pattern.startsWith("**/*.")) return name.endsWith(pattern.slice(4));
      if (pattern.startsWith("**/")) return parts.includes(pattern.slice(3));
      return parts[0] === pattern;
    });
  };
}

/** Builds `dockerfile` with `context` as the build context, in `scratch`. */
export async function replayDockerfile(
  context: string,
  dockerfile: string,
  scratch: string,
): Promise<ReplayedImage> {
  const stages = parseDockerfile(readFileSync(join(context, dockerfile), "utf8"));
  const ignored = ignoredBy(context);
  const roots = new Map<string, string>();
  let result: ReplayedImage | undefined;
  for (const stage of stages) {
    const root = join(scratch, `stage-${stage.name}`);
    mkdirSync(root, { recursive: true });
    roots.set(stage.name, root);
    let workdir = "/";
    const env: Record<string, string> = {};
    const inImage = (path: string) => join(root, path.startsWith("/") ? path : join(workdir, path));
    for (const { keyword, args } of stage.instructions) {
      if (keyword === "WORKDIR") {
        workdir = args;
        mkdirSync(inImage("."), { recursive: true });
      } else if (keyword === "ENV") {
        for (const [, name = "", value = ""] of args.matchAll(/(\w+)=(\S+)/g)) env[name] = value;
      } else if (keyword === "COPY") {
        const words = args.split(/\s+/);
        const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
        const [dest = "", ...sources] = words.filter((w) => !w.startsWith("--")).reverse();
        for (const source of sources.reverse()) {
          assert.ok(!/[*?[]/.test(source), `COPY ${source}: globs are not replayed`);
          const origin =
            from === undefined ? join(context, source) : join(roots.get(from) ?? assert.fail(from), source);
          assert.ok(existsSync(origin), `COPY ${from ? `--from=${from} ` : ""}${source}: no such file`);
          assert.ok(from !== undefined || !ignored(origin), `COPY ${source}: .dockerignore keeps it out`);
          // A folder's contents go to the destination; a file goes into it when it ends with a slash.
          const intoFolder = dest.endsWith("/") && !statSync(origin).isDirectory();
          const target = intoFolder ? join(inImage(dest), source.split("/").at(-1) ?? "") : inImage(dest);
          cpSync(origin, target, {
            recursive: true,
            verbatimSymlinks: true,
            filter: (path) => from !== undefined || !ignored(path),
          });
        }
      } else if (keyword === "RUN") {
        await run("sh", ["-c", args], {
          cwd: inImage("."),
          env: { ...process.env, ...env },
          timeout: 180_000,
          maxBuffer: 16 << 20,
        }).catch((error: { stdout?: string; stderr?: string }) =>
          assert.fail(
            `RUN ${args} (stage ${stage.name}) failed:\n${error.stdout ?? ""}${error.stderr ?? ""}`,
          ),
        );
      }
      // USER, EXPOSE, HEALTHCHECK, ENTRYPOINT and CMD describe the container; tests read them from the stage.
    }
    result = { root, workdir: inImage("."), env, stage };
  }
  assert.ok(result, "the Dockerfile has a stage");
  return result;
}
