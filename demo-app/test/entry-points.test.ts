// Every program in demo-app/dist runs, and nothing else is there to run: each entry point is bundled into
// one file, and every one that a script, the Dockerfile or the compose file names is one of them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { freePort, waitFor } from "../../testing/net.js";
import { buildEntryPoints, ENTRY_POINTS } from "../src/build.js";
import { bundlePage } from "../src/bundle-page.js";
import { builtPageDir } from "../src/paths.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = join(builtPageDir, "..");

/** The line each prints once it serves. */
const READY: Record<(typeof ENTRY_POINTS)[number], RegExp> = {
  start: /^Greeter demo: http:\/\/localhost:\d+$/m,
  greeter: /^Greeter \(native gRPC, h2c\) listening on http:\/\/127\.0\.0\.1:\d+/m,
  page: /^Greeter page: http:\/\/localhost:\d+$/m,
};

/** `dist/<name>.js` of every `node dist/<name>.js` (or demo-app/dist/…) in `text`. */
function namedIn(text: string): string[] {
  return [...text.matchAll(/(?:demo-app\/)?dist\/([\w-]+)\.js/g)].map((m) => m[1] ?? "");
}

before(async () => {
  await buildEntryPoints(dist);
  if (!existsSync(join(builtPageDir, "index.html"))) await bundlePage({ outDir: builtPageDir });
});

test("the build puts exactly the entry points in dist/, and every one named anywhere is one of them", () => {
  const programs = readdirSync(dist).filter((file) => file.endsWith(".js"));
  assert.deepEqual(programs.sort(), ENTRY_POINTS.map((name) => `${name}.js`).sort());
  const folders = readdirSync(dist, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  assert.deepEqual(
    folders.map((entry) => entry.name),
    ["web"],
    "no folder of modules beside the page",
  );
  const scripts = JSON.parse(readFileSync(join(root, "demo-app/package.json"), "utf8")).scripts;
  const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true });
  const named = [
    ...namedIn(Object.values(scripts).join("\n")),
    ...namedIn(readFileSync(join(root, "demo-app/Dockerfile"), "utf8")),
    ...namedIn(JSON.stringify(compose)),
  ];
  assert.ok(named.length > 0);
  for (const name of named) assert.ok((ENTRY_POINTS as readonly string[]).includes(name), `dist/${name}.js`);
  for (const name of ENTRY_POINTS) assert.ok(named.includes(name), `dist/${name}.js is run by something`);
});

for (const name of ENTRY_POINTS) {
  test(`node demo-app/dist/${name}.js serves, and stops on SIGTERM`, async (t) => {
    const env = {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(await freePort()),
      GREETER_PORT: String(await freePort()),
      PROXY_URL: "http://localhost:8081",
    };
    const child = spawn(process.execPath, [join(dist, `${name}.js`)], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(child, "exit");
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    await waitFor(() => {
      if (child.exitCode !== null) assert.fail(`exited with ${child.exitCode}:\n${output}`);
      return READY[name].test(output) || undefined;
    }, 15_000);
    child.kill("SIGTERM");
    assert.deepEqual(await exited, [0, null], output);
  });
}
