// Turns the rounds' measurements into the markdown table and the JSON record.
import { cpus, loadavg, totalmem } from "node:os";
import type { Options } from "./options.js";
import type { SetupId } from "./setups.js";
import { type Spread, spread } from "./stats.js";
import type { Measurement, Workload } from "./workloads.js";

export interface Sample {
  round: number;
  setup: SetupId;
  workload: string;
  measurement: Measurement;
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    /** Other work on the machine skews every number; the 1-minute load average says how much there was. */
    loadAverage: Number(loadavg()[0]?.toFixed(2)),
  };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell({ median, min, max }: Spread, rounds: number): string {
  if (!Number.isFinite(median)) return "–";
  return rounds > 1 ? `${format(median)} (${format(min)}–${format(max)})` : format(median);
}

function ratio(a: number, b: number): string {
  return a > 0 && b > 0 ? `${(a / b).toFixed(2)}×` : "–";
}

class Table {
  constructor(
    private readonly samples: Sample[],
    private readonly rounds: number,
  ) {}

  values(setup: SetupId, workload: string, key: string): number[] {
    return this.samples
      .filter((s) => s.setup === setup && s.workload === workload)
      .map((s) => s.measurement.values[key] ?? Number.NaN);
  }

  /** Per round, setup's value minus A's in the same round: the latency a hop adds. */
  addedVsA(setup: SetupId, workload: string, key: string): number[] {
    const own = this.values(setup, workload, key);
    const direct = this.values("A", workload, key);
    return own.map((value, round) => value - (direct[round] ?? Number.NaN));
  }

  render(setups: SetupId[], workloads: Workload[], options: Options): string {
    const lines: string[] = [];
    const header = ["metric", ...setups.map((id) => id), "C/A", "C/B", "C/R"];
    for (const workload of workloads) {
      const present = setups.filter((id) =>
        this.samples.some((s) => s.setup === id && s.workload === workload.id),
      );
      if (present.length === 0) continue;
      lines.push(`**${workload.title(options.sizes)}**`, "");
      lines.push(`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`);
      for (const metric of workload.metrics) {
        const spreads = setups.map((id) => spread(this.values(id, workload.id, metric.key)));
        const median = (id: SetupId) => spreads[setups.indexOf(id)]?.median ?? Number.NaN;
        if (spreads.every((s) => !Number.isFinite(s.median))) continue;
        const cells = spreads.map((s) => cell(s, this.rounds));
        lines.push(
          `| ${[metric.label, ...cells, ratio(median("C"), median("A")), ratio(median("C"), median("B")), ratio(median("C"), median("R"))].join(" | ")} |`,
        );
      }
      if (workload.id === "rate") lines.push(...this.addedLatencyRows(setups));
      lines.push(...this.failureNotes(present, workload), "");
    }
    return lines.join("\n");
  }

  private addedLatencyRows(setups: SetupId[]): string[] {
    return ["p50Ms", "p99Ms"].map((key) => {
      const cells = setups.map((id) => {
        if (id === "A") return "–";
        const added = spread(this.addedVsA(id, "rate", key));
        return Number.isFinite(added.median) ? `${format(added.median)} (best ${format(added.min)})` : "–";
      });
      return `| added ${key.replace("Ms", "")} ms vs A | ${cells.join(" | ")} | | | |`;
    });
  }

  private failureNotes(setups: SetupId[], workload: Workload): string[] {
    return setups.flatMap((id) => {
      const failing = this.samples.filter(
        (s) => s.setup === id && s.workload === workload.id && s.measurement.failed,
      );
      if (failing.length === 0) return [];
      const total = failing.reduce((sum, s) => sum + s.measurement.failed, 0);
      return [``, `${id}: ${total} unverified (not counted), e.g. ${failing[0]?.measurement.firstFailure}`];
    });
  }
}

export function markdown(
  samples: Sample[],
  setups: SetupId[],
  workloads: Workload[],
  options: Options,
  loadAtStart: number,
) {
  const m = machine();
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const roundsNote =
    options.rounds > 1 ? `median (min–max) of ${options.rounds} interleaved rounds` : "1 round";
  return [
    `Run ${date} UTC on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}; backend ${options.backend}` +
      `${options.quick ? ", --quick" : ""}; ${roundsNote}; load average ${loadAtStart} at the start, ` +
      `${m.loadAverage} at the end (2 = both cores busy). Only verified successes count.`,
    "",
    new Table(samples, options.rounds).render(setups, workloads, options),
  ].join("\n");
}
