// `npm run bench`: starts every setup, runs each workload on each setup in turn (A B C D A B C D …)
// for several rounds, then prints the markdown table and writes the JSON and markdown under results/.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseOptions } from "./options.js";
import { pinSelf, stopAllProcesses } from "./procs/pinned.js";
import { machine, markdown, type Sample } from "./report.js";
import { type Running, start, unavailable } from "./setups.js";
import { workloads } from "./workloads.js";

const options = parseOptions(process.argv.slice(2));
const selected = workloads.filter((w) => !options.workloads || options.workloads.includes(w.id));
const skipped = options.setups.flatMap((id) => {
  const reason = unavailable(id, options.proxyCli);
  return reason ? [`${id}: ${reason}`] : [];
});
for (const line of skipped) console.error(`skipping ${line}`);
const setupIds = options.setups.filter((id) => !unavailable(id, options.proxyCli));

pinSelf();
const running: Running[] = [];
// Ctrl-C or a kill still stops every process the bench started (the proxy CLI would outlive it).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the setups`);
    void stopAllProcesses().finally(() => process.exit(130));
  });
}
const samples: Sample[] = [];
const startedAt = Date.now();
const loadAtStart = machine().loadAverage;
try {
  for (const id of setupIds) running.push(await start(id, options));
  for (let round = 1; round <= options.rounds; round++) {
    for (const workload of selected) {
      for (const [index, current] of running.entries()) {
        if (!workload.applies(current.spec)) continue;
        const setup = workload.freshProcesses ? await restart(index) : current;
        const measurement = await workload.run(setup, options.sizes);
        samples.push({ round, setup: setup.spec.id, workload: workload.id, measurement });
        const failed = measurement.failed
          ? ` (${measurement.failed} unverified: ${measurement.firstFailure})`
          : "";
        console.error(
          `round ${round} ${workload.id} ${setup.spec.id}: ${summary(measurement.values)}${failed}`,
        );
      }
    }
  }
} finally {
  await Promise.all(running.map((r) => r.stop()));
}

const table = markdown(samples, setupIds, selected, options, loadAtStart);
console.log(`\n${table}`);
const resultsDir = fileURLToPath(new URL("results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const seconds = Math.round((Date.now() - startedAt) / 1000);
const record = { date: new Date().toISOString(), machine: machine(), options, skipped, seconds, samples };
writeFileSync(`${resultsDir}bench-${stamp}.json`, `${JSON.stringify(record, null, 2)}\n`);
writeFileSync(`${resultsDir}latest.md`, `${table}\n`);
console.error(`wrote bench/results/bench-${stamp}.json and bench/results/latest.md (${seconds} s)`);
if (options.updateReadme) updateReadme(table);

/** Replaces a running setup with a freshly started one. */
async function restart(index: number): Promise<Running> {
  const old = running[index];
  if (!old) throw new Error(`no running setup at ${index}`);
  await old.stop();
  const fresh = await start(old.spec.id, { ...options, inspectFront: true });
  running[index] = fresh;
  return fresh;
}

function summary(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${Number.isFinite(value) ? Number(value.toPrecision(4)) : "–"}`)
    .join(" ");
}

/** Replaces the table between the README's markers, so it always shows the latest full run. */
function updateReadme(table: string): void {
  const path = fileURLToPath(new URL("README.md", import.meta.url));
  const readme = readFileSync(path, "utf8");
  const begin = "<!-- bench:begin -->";
  const end = "<!-- bench:end -->";
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`bench/README.md lacks the ${begin} … ${end} markers`);
  writeFileSync(path, `${readme.slice(0, from + begin.length)}\n${table}\n${readme.slice(to)}`);
  console.error("updated bench/README.md");
}
