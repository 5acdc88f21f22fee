// Prints the functions with the most self time in a V8 .cpuprofile (from node --cpu-prof), then the share of
// busy time spent inside each area of code (inclusive: a sample counts for every area on its stack).
// Usage: node --import tsx bench/profile-top.ts <file.cpuprofile> [how many, default 25] [--skip-ms N]
// --skip-ms leaves out the first N ms (start-up: module loading and compiling) so the tops show the calls.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Areas whose inclusive share is printed: a frame belongs to the first whose pattern its URL contains. */
const AREAS: ReadonlyArray<readonly [name: string, pattern: string]> = [
  ["the proxy's own JS (proxy/dist)", "proxy/dist/"],
  ["Fastify (and find-my-way, avvio)", "node_modules/fastify"],
  ["pino", "node_modules/pino"],
  ["prom-client", "node_modules/prom-client"],
  ["node:http2", "node:internal/http2"],
  ["node:http (server)", "node:_http"],
];

const args = process.argv.slice(2);
const skipAt = args.indexOf("--skip-ms");
const skipMs = skipAt < 0 ? 0 : Number(args.splice(skipAt, 2)[1]);
const [file, most = "25"] = args;
if (!file) throw new Error("usage: profile-top.ts <file.cpuprofile> [how many] [--skip-ms N]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const selfUs = new Map<string, number>();
const areaUs = new Map<string, number>();
let totalUs = 0;
let idleUs = 0;
let atUs = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  atUs += delta;
  const frame = nodes.get(id)?.callFrame;
  if (!frame || atUs < skipMs * 1000) return;
  totalUs += delta;
  if (frame.functionName === "(idle)") {
    idleUs += delta;
    return;
  }
  const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : "";
  const name = `${frame.functionName || "(anonymous)"} ${where}`.trim();
  selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const url = nodes.get(at)?.callFrame.url ?? "";
    const area = AREAS.find(([, pattern]) => url.includes(pattern));
    if (area) seen.add(area[0]);
  }
  for (const area of seen) areaUs.set(area, (areaUs.get(area) ?? 0) + delta);
});

const busyUs = totalUs - idleUs;
const share = (us: number) => ((us / busyUs) * 100).toFixed(1).padStart(5);
console.log(`busy ${(busyUs / 1000).toFixed(0)} ms of ${(totalUs / 1000).toFixed(0)} ms sampled`);
for (const [name, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(most))) {
  console.log(`${share(us)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
}
console.log("inclusive, by area:");
for (const [name] of AREAS) console.log(`${share(areaUs.get(name) ?? 0)}%  ${name}`);

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  return path.startsWith("/") ? relative(process.cwd(), path) : path;
}
