// Prints the functions with the most self time in a V8 .cpuprofile (from node --cpu-prof).
// Usage: node --import tsx bench/profile-top.ts <file.cpuprofile> [how many, default 25]
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, most = "25"] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-top.ts <file.cpuprofile> [how many]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<string, number>();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const frame = nodes.get(id)?.callFrame;
  const delta = profile.timeDeltas[i] ?? 0;
  if (!frame) return;
  const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : "";
  const name = `${frame.functionName || "(anonymous)"} ${where}`.trim();
  selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
  totalUs += delta;
});

const idle = selfUs.get("(idle)") ?? 0;
selfUs.delete("(idle)");
console.log(`busy ${((totalUs - idle) / 1000).toFixed(0)} ms of ${(totalUs / 1000).toFixed(0)} ms sampled`);
for (const [name, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(most))) {
  const share = ((us / (totalUs - idle)) * 100).toFixed(1);
  console.log(`${share.padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  return path.startsWith("/") ? relative(process.cwd(), path) : path;
}
