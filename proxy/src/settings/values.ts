// The kinds of value a setting takes. Each reads a flag's or environment variable's text into the form a config
// file or the plugin's options hold, and checks that form into what the proxy uses: one check, whatever the source.
import { accessSync, constants } from "node:fs";
import { availableParallelism } from "node:os";
import { hostPort as formatHostPort } from "../upstream/address.js";
import { durationProblem, formatDuration, parseDuration } from "./durations.js";

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly why: string };

export interface ValueKind<T> {
  /** A flag's or environment variable's text in the form the file holds: "1024" → 1024, "true" → true. */
  fromText(text: string): unknown;
  /** A value of the file or the plugin's options (or what fromText made), checked, as the proxy uses it. */
  check(value: unknown): Checked<T>;
  /** A value as --help and the settings table show it. */
  show(value: T): string;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** The `healthCheck` value that asks about the whole server (service ""). */
export const WHOLE_SERVER = "server";

/** pino levels, and "silent". */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = (why: string): Checked<never> => ({ ok: false, why });
const same = (text: string): unknown => text;
const got = (value: unknown) => (typeof value === "string" ? `"${value}"` : JSON.stringify(value));

/** What 0 means for a duration: not allowed, "off", or just no time at all. */
type Zero = "refused" | "off" | "none";

export function duration(zero: Zero = "refused"): ValueKind<number> {
  return {
    fromText: same,
    check(value) {
      const ms = typeof value === "string" ? parseDuration(value) : undefined;
      if (ms === undefined) return bad(durationProblem(value) + (zero === "off" ? " (0: off)" : ""));
      if (ms === 0 && zero === "refused") return bad(`must be longer than 0, got ${got(value)}`);
      return ok(ms);
    },
    show: formatDuration,
  };
}

export const count: ValueKind<number> = {
  fromText: (text) => (/^\s*[+-]?\d+(\.\d*)?\s*$/.test(text) ? Number(text) : text),
  check: (value) =>
    Number.isSafeInteger(value) && (value as number) > 0
      ? ok(value as number)
      : bad(`expected a positive whole number, got ${got(value)}`),
  show: String,
};

/** A switch: given or not; "true" or "false" in the environment. */
export const boolean: ValueKind<boolean> = {
  fromText: (text) => (text === "true" ? true : text === "false" ? false : text),
  check: (value) =>
    typeof value === "boolean" ? ok(value) : bad(`expected true or false, got ${got(value)}`),
  show: String,
};

export const text: ValueKind<string> = {
  fromText: same,
  check: (value) =>
    typeof value === "string" && value !== "" ? ok(value) : bad(`expected some text, got ${got(value)}`),
  show: String,
};

/** A file path, readable now: a typo stops the start, not a call. */
export const file: ValueKind<string> = {
  fromText: same,
  check(value) {
    if (typeof value !== "string" || value === "") return bad(`expected a file path, got ${got(value)}`);
    try {
      accessSync(value, constants.R_OK);
      return ok(value);
    } catch {
      return bad(`cannot read "${value}"`);
    }
  },
  show: String,
};

export const hostPort: ValueKind<HostPort> = {
  fromText: same,
  check(value) {
    const text = typeof value === "string" ? value : "";
    const colon = text.lastIndexOf(":");
    const host = text.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const port = Number(text.slice(colon + 1));
    if (colon < 0 || !host || !/^\d+$/.test(text.slice(colon + 1)) || port > 65535) {
      return bad(`expected HOST:PORT, got ${got(value)}`);
    }
    return ok({ host, port });
  },
  show: ({ host, port }) => formatHostPort(host, port),
};

/** An upstream's URL; its form is checked with the routing, where the file's `upstreams` are checked too. */
export const upstreamUrl: ValueKind<string | URL> = {
  fromText: same,
  check: (value) =>
    (typeof value === "string" && value !== "") || value instanceof URL
      ? ok(value)
      : bad(`expected a URL such as http://127.0.0.1:50051, got ${got(value)}`),
  show: String,
};

/** A list as a flag's or environment variable's text gives it: comma-separated, blanks dropped. */
const commaList = (text: string): string[] =>
  text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** Browser origins: '*' or scheme://host[:port]; the environment's are comma-separated. */
export const origins: ValueKind<readonly string[]> = {
  fromText: commaList,
  check(value) {
    if (!Array.isArray(value)) return bad(`expected a list of origins, got ${got(value)}`);
    for (const origin of value) {
      if (origin !== "*" && !(typeof origin === "string" && /^https?:\/\/[^/\s]+$/.test(origin))) {
        return bad(`expected '*' or scheme://host[:port] with no path, got ${got(origin)}`);
      }
    }
    return ok(value as string[]);
  },
  show: (list) => list.join(", "),
};

/** Host names the proxy answers to: a name, an IP address or `*.suffix`; the environment's are comma-separated. */
export const hostNames: ValueKind<readonly string[]> = {
  fromText: commaList,
  check(value) {
    if (!Array.isArray(value)) return bad(`expected a list of host names, got ${got(value)}`);
    for (const name of value) {
      if (!(typeof name === "string" && /^(\*\.)?[\w.-]+$|^\[?[\da-f:.]+\]?$/i.test(name))) {
        return bad(`expected a host name, an IP address or *.suffix, without a port, got ${got(name)}`);
      }
    }
    return ok(value as string[]);
  },
  show: (list) => list.join(", "),
};

/** One of a few words. */
export function oneOf<const T extends string>(words: readonly T[]): ValueKind<T> {
  return {
    fromText: same,
    check: (value) =>
      (words as readonly unknown[]).includes(value)
        ? ok(value as T)
        : bad(`expected ${words.join(" or ")}, got ${got(value)}`),
    show: String,
  };
}

/** A grpc.health.v1 service name; "server" is the whole server, which the protocol calls "" (also taken). */
export const healthService: ValueKind<string> = {
  fromText: same,
  check: (value) =>
    typeof value === "string"
      ? ok(value === WHOLE_SERVER ? "" : value)
      : bad(`expected a service name, or "${WHOLE_SERVER}" for the whole server, got ${got(value)}`),
  show: (service) => (service === "" ? WHOLE_SERVER : service),
};

export const logLevel: ValueKind<LogLevel> = {
  fromText: same,
  check: (value) =>
    (LOG_LEVELS as readonly unknown[]).includes(value)
      ? ok(value as LogLevel)
      : bad(`expected one of ${LOG_LEVELS.join(", ")}, got ${got(value)}`),
  show: String,
};

/** Processes sharing the port: a count, or "auto" for one per CPU. */
export const workers: ValueKind<number> = {
  fromText: (text) => (text === "auto" ? text : count.fromText(text)),
  check: (value) =>
    value === "auto"
      ? ok(availableParallelism())
      : count.check(value).ok
        ? ok(value as number)
        : bad(`expected a positive whole number or "auto", got ${got(value)}`),
  show: String,
};
