// The soak: minutes of mixed gRPC-Web load through the proxy's CLI (its own process, as deployed) while faults
// are injected in turn, then a report of the calls, the errors by kind, the proxy's memory over time and its
// resource counts at the end. On demand, not in `npm test`:
//   npm run soak -- --minutes 5 --concurrency 50 --fault-every 10s
// Exits 1 when the proxy still holds a call or an upstream stream once the load has stopped, or has died.
import { readdirSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";
import { parseDuration } from "../proxy/src/settings/durations.js";
import { type RunningCli, startCli } from "../proxy/test/support/cli-process.js";
import { type LoadResult, runMixedLoad } from "../proxy/test/support/mixed-load.js";
import { adminLoad, type ProxyLoad, settled } from "../proxy/test/support/proxy-load.js";
import { injectFaults, RestartableBackend } from "./soak.faults.js";

const ROUND = 1000;
const SAMPLE_EVERY_MS = 5000;
const MiB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "3" },
    concurrency: { type: "string", default: "50" },
    "fault-every": { type: "string", default: "10s" },
  },
});
const durationMs = Number(values.minutes) * 60_000;
const concurrency = Number(values.concurrency);
const faultEveryMs = parseDuration(values["fault-every"]);
if (!(durationMs > 0) || !(concurrency > 0) || faultEveryMs === undefined) {
  console.error("usage: npm run soak -- [--minutes N] [--concurrency N] [--fault-every DURATION]");
  process.exit(2);
}

/** Load in rounds until `until`, adding every round's counts to `totals`. */
async function loadUntil(cli: RunningCli, until: number, totals: LoadResult): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let calls = 0;
  try {
    while (Date.now() < until) {
      const round = await runMixedLoad({ url: cli.url, calls: ROUND, concurrency, agent, first: calls });
      for (const key of ["done", "errors"] as const) {
        for (const [name, n] of round[key]) totals[key].set(name, (totals[key].get(name) ?? 0) + n);
      }
      calls += ROUND;
    }
  } finally {
    agent.destroy();
  }
  return calls;
}

function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function table(rows: Map<string, number>): string {
  if (rows.size === 0) return "  (none)";
  return [...rows]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `  ${String(n).padStart(7)}  ${name}`)
    .join("\n");
}

const backend = await RestartableBackend.start("grpc-js");
const cli = await startCli(["--upstream", backend.url, "--log-level", "error"]);
const started = Date.now();
const until = started + durationMs;
const samples: ProxyLoad[] = [];
const sampler = setInterval(() => {
  adminLoad(cli.adminUrl).then(
    (load) => samples.push(load),
    () => {},
  );
}, SAMPLE_EVERY_MS);
const filesAtStart = openFiles(cli.child.pid as number);
console.log(
  `soak: ${values.minutes} min, ${concurrency} concurrent calls, a fault every ${values["fault-every"]}`,
);

const totals: LoadResult = { done: new Map(), errors: new Map() };
const [calls, injected] = await Promise.all([
  loadUntil(cli, until, totals),
  injectFaults({ proxyPort: Number(new URL(cli.url).port), backend }, until, faultEveryMs),
]);
clearInterval(sampler);
const seconds = (Date.now() - started) / 1000;
const alive = cli.child.exitCode === null;
const final = alive
  ? await settled(() => adminLoad(cli.adminUrl), 10_000).catch(() => adminLoad(cli.adminUrl))
  : undefined;
const filesAtEnd = alive ? openFiles(cli.child.pid as number) : undefined;
const rss = samples.map((s) => (s.rssBytes ?? 0) / MiB);
const errors = [...totals.errors.values()].reduce((a, b) => a + b, 0);

console.log(`
calls: ${calls} in ${seconds.toFixed(0)} s (${(calls / seconds).toFixed(0)}/s), ${errors} not as planned
faults injected:
${table(injected)}
calls by kind/ending:
${table(totals.done)}
errors by kind (calls in flight when a fault hit end so; any other kind is a finding):
${table(totals.errors)}
proxy RSS over ${samples.length} samples: min ${Math.min(...rss).toFixed(1)} MiB, max ${Math.max(...rss).toFixed(1)} MiB, last ${rss.at(-1)?.toFixed(1)} MiB
final: ${alive ? JSON.stringify({ ...final, rssMiB: ((final?.rssBytes ?? 0) / MiB).toFixed(1), openFiles: { atStart: filesAtStart, atEnd: filesAtEnd } }) : "the proxy process died"}`);

cli.child.kill("SIGTERM");
await cli.exited;
await backend.stop();
process.exitCode = !alive || final?.activeCalls !== 0 || final?.upstreamStreams !== 0 ? 1 : 0;
