import { MAX_TIMER_MS } from "../protocol/timeout.js";

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const MS_PER_UNIT = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof MS_PER_UNIT;

/**
 * A duration setting like "5m", "30s", "250ms", "1h" or "1.5s" → ms; undefined on anything else. Lower-case units
 * as in Go and systemd ("m" is minutes here, unlike grpc-timeout). A bare number has no unit and is refused
 * (`--max-timeout 30` meant seconds and ran as milliseconds), except "0", which is 0 in every unit.
 * Every duration the proxy takes is a timer's, and a timer fires a longer delay after 1 ms: "720h" would have
 * made an idle timeout end every call at once. So durations stop at MAX_TIMER_MS (24.8 days).
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "0") return 0;
  const match = DURATION.exec(trimmed);
  if (match === null) return undefined;
  return Math.min(Number(match[1]) * MS_PER_UNIT[match[2] as Unit], MAX_TIMER_MS);
}

/** Why `value` (text from a flag, or any value of a file or option) is not a duration: the one wording. */
export function durationProblem(value: unknown): string {
  const bare = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  if (/^\d+(\.\d+)?$/.test(bare)) return `add a unit: ${bare}s or ${bare}ms`;
  return `expected a duration like 500ms, 30s, 5m or 1h, got ${JSON.stringify(value)}`;
}

/** 300000 → "5m": the largest unit that holds `ms` whole, for help texts and the settings table. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const unit of ["h", "m", "s"] as const) {
    if (ms % MS_PER_UNIT[unit] === 0) return `${ms / MS_PER_UNIT[unit]}${unit}`;
  }
  return `${ms}ms`;
}
