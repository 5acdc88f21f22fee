import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { BearerFileError, bearerAuthFromFiles } from "../auth/from-files.js";
import type { LogFormat } from "../ops/log-format.js";
import type { ServerOptions } from "../plugin/build.js";
import type { CallInterceptor } from "../plugin/interceptors.js";
import type { ConfigFileParse, ConfigFileValues } from "../settings/config-file.js";
import { type ConfigProblem, closestName, unknownName } from "../settings/problems.js";
import {
  SETTING_KEYS,
  SETTINGS,
  type Setting,
  type SettingKey,
  type SettingValue,
} from "../settings/registry.js";
import { file as fileKind, type HostPort, type LogLevel } from "../settings/values.js";
import { type OtelTracing, readOtelTracing } from "../tracing/otel-settings.js";
import { planRouting, type RoutingOptions } from "../upstream/routing.js";
import type { UpstreamTlsOptions } from "../upstream/tls.js";
import { USAGE } from "./usage.js";

export interface CliConfig extends HostPort {
  readonly logLevel: LogLevel;
  /** undefined: pretty on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  /** Where /healthz, /readyz and /metrics are served; undefined: nowhere. */
  readonly admin: HostPort | undefined;
  /** How long calls in flight may run on after SIGTERM/SIGINT. */
  readonly drainTimeoutMs: number;
  /** What `buildServer` takes: the plugin's settings, as the file's keys name them, and TLS and auth. */
  readonly proxy: Omit<ServerOptions, "logger">;
  /** Processes that share the port (node:cluster); 1: this one alone. */
  readonly workers: number;
  /** Traces, as the OTEL_* environment variables ask. */
  readonly tracing: Exclude<OtelTracing, { kind: "invalid" }>;
  /** Every file this configuration was read from: the config file, then the files its settings name. */
  readonly files: readonly string[];
  /** Reload when one of `files` changes. */
  readonly watchConfig: boolean;
}

export type CliParse =
  | { readonly kind: "run"; readonly config: CliConfig }
  /** --check-config: the file (with the flags) is valid; `summary` says what it sets up. */
  | { readonly kind: "checked"; readonly config: CliConfig; readonly summary: string }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version" }
  /** Every problem of the flags, the environment and the config file, one a line, each naming its source. */
  | { readonly kind: "error"; readonly message: string };

const ENV_PREFIX = "GRPC_WEB_BRIDGE_";

const require = createRequire(import.meta.url);

/**
 * The config file's reader, loaded only when a file is named: YAML and TypeBox would add about 9 MiB to the RSS of
 * every proxy at start. `require`, because parseCli answers synchronously; Node >= 20.19 requires ES modules.
 */
function loadConfigFile(file: string): ConfigFileParse {
  const reader = require("../settings/config-file.js") as typeof import("../settings/config-file.js");
  return reader.loadConfigFile(file);
}

/** Where a value came from; a problem with it names that. */
type Source = { readonly kind: "flag" | "env" } | { readonly kind: "file"; readonly file: ConfigFileValues };

/** A setting's value as the highest source set it: in the file's form (for the plugin), and checked. */
interface Chosen {
  readonly raw: unknown;
  readonly value: unknown;
  readonly source: Source;
}

/**
 * Flags, then environment variables, then the config file, then defaults. Every source's values are checked, even
 * those a higher one overrides, and every problem is listed, each naming its flag, variable or file:line:column.
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliParse {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);
  if (flags.has("help")) return { kind: "help", text: USAGE };
  if (flags.has("version")) return { kind: "version" };
  problems.push(...unknownVariables(env));
  const tracing = readOtelTracing(env);
  if (tracing.kind === "invalid") problems.push(...tracing.problems.map((problem) => `$${problem}`));

  const checkOnly = flags.get("checkConfig") as string | undefined;
  const configPath =
    checkOnly ?? (flags.get("config") as string | undefined) ?? nonEmpty(env[SETTINGS.config.env as string]);
  const loaded = configPath === undefined ? undefined : loadConfigFile(configPath);
  if (loaded && !loaded.ok) problems.push(...loaded.errors);
  const file = loaded?.ok ? loaded.config : undefined;

  // The file's problems are listed in the order of the file, after the others.
  const fileProblems: ConfigProblem[] = [...(file?.shapeProblems ?? [])];
  const chosen = new Map<SettingKey, Chosen>();
  const report = (key: SettingKey, source: Source, why: string): void => {
    const row = SETTINGS[key] as Setting;
    if (source.kind === "file") fileProblems.push({ path: [key], message: why });
    else problems.push(source.kind === "env" ? `$${row.env}: ${why}` : `--${row.flag}: ${why}`);
  };
  /** A problem with a setting, said against where its value came from (the flag when none). */
  const bad = (key: SettingKey, why: string) => report(key, chosen.get(key)?.source ?? { kind: "flag" }, why);
  /** The setting's name as its source says it: --tls-key, GRPC_WEB_BRIDGE_TLS_KEY or tlsKey. */
  const nameOf = (key: SettingKey, as: SettingKey = key): string => {
    const kind = chosen.get(as)?.source.kind ?? "flag";
    const row = SETTINGS[key] as Setting;
    return kind === "file" ? key : kind === "env" ? (row.env ?? key) : `--${row.flag}`;
  };

  for (const key of SETTING_KEYS) {
    if (key === "config" || key === "checkConfig") continue;
    const row = SETTINGS[key] as Setting;
    const given: [Source, unknown][] = [];
    const flag = flags.get(key);
    if (flag !== undefined)
      given.push([{ kind: "flag" }, typeof flag === "string" ? row.kind.fromText(flag) : flag]);
    const variable = row.env === undefined ? undefined : nonEmpty(env[row.env]);
    if (variable !== undefined) given.push([{ kind: "env" }, row.kind.fromText(variable)]);
    const inFile = file?.values[key];
    if (file && inFile !== undefined && !row.flagOnly) given.push([{ kind: "file", file }, inFile]);
    for (const [i, [source, raw]] of given.entries()) {
      const checked = row.kind.check(raw);
      if (!checked.ok) report(key, source, checked.why);
      else if (i === 0) chosen.set(key, { raw, value: checked.value, source });
    }
  }
  const value = <K extends SettingKey>(key: K): SettingValue<K> | undefined =>
    (chosen.get(key)?.value as SettingValue<K> | undefined) ??
    (SETTINGS[key] as Setting<SettingValue<K>>).default;
  const raw = (key: SettingKey): unknown => chosen.get(key)?.raw;

  const address = value("listen") as HostPort;
  const admin = value("adminListen");
  if (admin && admin.port !== 0 && admin.port === address.port && admin.host === address.host) {
    bad(
      "adminListen",
      `must differ from ${nameOf("listen")}: health and metrics never share the public port`,
    );
  }
  for (const [a, b] of [
    ["tlsCert", "tlsKey"],
    ["upstreamCert", "upstreamKey"],
  ] as const) {
    const lone = chosen.has(a) === chosen.has(b) ? undefined : chosen.has(a) ? a : b;
    if (lone) bad(lone, `${nameOf(a, lone)} and ${nameOf(b, lone)} go together`);
  }
  if (value("tlsLegacyClients") === true && !chosen.has("tlsCert")) {
    bad(
      "tlsLegacyClients",
      `needs ${nameOf("tlsCert", "tlsLegacyClients")}: it loosens TLS, and there is none`,
    );
  }
  const interceptor = bearerInterceptor(value, bad, nameOf);

  const routing = routingOf(chosen, file, fileProblems, bad);
  if (file) problems.push(...file.report(fileProblems));
  if (problems.length > 0) return { kind: "error", message: problems.join("\n") };

  const certFile = value("tlsCert");
  const keyFile = value("tlsKey");
  const upstreamTls = upstreamTlsOf(value);
  const proxy: Omit<ServerOptions, "logger"> = {
    ...Object.fromEntries(
      SETTING_KEYS.filter((key) => (SETTINGS[key] as Setting).takenBy !== "cli" && chosen.has(key)).map(
        (key) => [key, raw(key)],
      ),
    ),
    ...routing,
    ...(certFile !== undefined &&
      keyFile !== undefined && {
        tls: { certFile, keyFile, ...(value("tlsLegacyClients") === true && { legacyClients: true }) },
      }),
    ...(upstreamTls && { upstreamTls }),
    ...(interceptor && { interceptors: [interceptor] }),
  };
  const config: CliConfig = {
    ...address,
    logLevel: value("logLevel") as LogLevel,
    logFormat: value("logFormat"),
    admin,
    drainTimeoutMs: value("drainTimeout") as number,
    workers: value("workers") as number,
    proxy,
    tracing: tracing as CliConfig["tracing"],
    files: [
      ...(configPath === undefined ? [] : [configPath]),
      ...[...chosen]
        .filter(([key]) => (SETTINGS[key] as Setting).kind === fileKind)
        .map(([, { value }]) => value as string),
    ],
    watchConfig: value("watchConfig") === true,
  };
  if (checkOnly === undefined) return { kind: "run", config };
  const traces = tracing.kind === "on" ? `; traces over OTLP ${tracing.protocol}` : "";
  return { kind: "checked", config, summary: `${checkOnly}: valid; ${describeRouting(routing)}${traces}` };
}

type Flags = Map<SettingKey | "help" | "version", string | string[] | true>;

/** The flags given, by setting; each unknown flag, missing value or stray argument is a problem. */
function readFlags(argv: readonly string[], problems: string[]): Flags {
  const byFlag = new Map<string, SettingKey | "help" | "version">([
    ...SETTING_KEYS.map((key) => [(SETTINGS[key] as Setting).flag, key] as const),
    ["help", "help"],
    ["version", "version"],
  ]);
  const isSwitch = (key: SettingKey | "help" | "version") =>
    key === "help" || key === "version" || (SETTINGS[key] as Setting).arg === undefined;
  const options = Object.fromEntries(
    [...byFlag].map(([flag, key]) => [
      flag,
      { type: isSwitch(key) ? ("boolean" as const) : ("string" as const) },
    ]),
  );
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags: Flags = new Map();
  for (const [i, token] of tokens.entries()) {
    if (token.kind === "positional") {
      // The value of an unknown flag was reported with it.
      const previous = tokens[i - 1];
      if (!(previous?.kind === "option" && !byFlag.has(previous.name) && previous.value === undefined)) {
        problems.push(`unexpected argument "${token.value}"`);
      }
      continue;
    }
    if (token.kind !== "option") continue;
    const key = byFlag.get(token.name);
    if (key === undefined) {
      const best = closestName(token.name, byFlag.keys());
      problems.push(`${token.rawName}: unknown flag${best ? ` (did you mean --${best}?)` : " (see --help)"}`);
    } else if (isSwitch(key)) {
      if (token.value !== undefined) problems.push(`${token.rawName}: takes no value, got "${token.value}"`);
      else flags.set(key, true);
    } else if (token.value === undefined) {
      problems.push(`${token.rawName}: needs a value: ${(SETTINGS[key as SettingKey] as Setting).arg}`);
    } else if ((SETTINGS[key as SettingKey] as Setting).repeated) {
      const earlier = flags.get(key);
      flags.set(key, [...(Array.isArray(earlier) ? earlier : []), token.value]);
    } else {
      flags.set(key, token.value);
    }
  }
  return flags;
}

/** GRPC_WEB_BRIDGE_* variables that no setting reads: likely a typo, which would otherwise be silently ignored. */
function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  const known = SETTING_KEYS.flatMap((key) => (SETTINGS[key] as Setting).env ?? []);
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.includes(name))
    .map((name) => `$${name}: ${unknownName("variable", name, known)}`);
}

type Value = <K extends SettingKey>(key: K) => SettingValue<K> | undefined;

/** The bearer check of the auth settings, read now so a bad file stops the start; undefined without one. */
function bearerInterceptor(
  value: Value,
  bad: (key: SettingKey, why: string) => void,
  nameOf: (key: SettingKey, as?: SettingKey) => string,
): CallInterceptor | undefined {
  const jwtKeyFile = value("authJwtKey");
  const tokensFile = value("authTokensFile");
  const jwtIssuer = value("authJwtIssuer");
  const jwtAudience = value("authJwtAudience");
  if (jwtKeyFile === undefined) {
    for (const key of ["authJwtIssuer", "authJwtAudience"] as const) {
      if (value(key) !== undefined) bad(key, `needs ${nameOf("authJwtKey", key)}`);
    }
  }
  try {
    return bearerAuthFromFiles({
      ...(tokensFile !== undefined && { tokensFile }),
      ...(jwtKeyFile !== undefined && {
        jwtKeyFile,
        jwtIssuer,
        jwtAudience,
        jwtAllowNoExpiry: value("authJwtAllowNoExpiry") === true,
        jwtClockSkewMs: value("authJwtClockSkew"),
      }),
    });
  } catch (error) {
    if (!(error instanceof BearerFileError)) throw error;
    bad(error.file === "jwtKeyFile" ? "authJwtKey" : "authTokensFile", error.message);
    return undefined;
  }
}

function upstreamTlsOf(value: Value): UpstreamTlsOptions | undefined {
  const tls: UpstreamTlsOptions = {
    ...(value("upstreamCa") !== undefined && { caFile: value("upstreamCa") }),
    ...(value("upstreamCert") !== undefined && { certFile: value("upstreamCert") }),
    ...(value("upstreamKey") !== undefined && { keyFile: value("upstreamKey") }),
    ...(value("upstreamServerName") !== undefined && { serverName: value("upstreamServerName") }),
    ...(value("upstreamInsecureSkipVerify") && { insecureSkipVerify: true }),
  };
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/**
 * The upstreams and routes: an upstream from a flag or the environment replaces the file's upstreams and routes.
 * Their problems are listed with the rest, the file's with their lines.
 */
function routingOf(
  chosen: ReadonlyMap<SettingKey, Chosen>,
  file: ConfigFileValues | undefined,
  fileProblems: ConfigProblem[],
  bad: (key: SettingKey, why: string) => void,
): RoutingOptions {
  const upstream = chosen.get("upstream");
  const fromFile = upstream === undefined || upstream.source.kind === "file";
  const shapeless = file?.shapeProblems.some(({ path }) => path[0] === "upstreams" || path[0] === "routes");
  if (fromFile && shapeless) return {};
  const values = fromFile ? file?.values : undefined;
  const routing: RoutingOptions = {
    ...(upstream && { upstream: upstream.raw as string }),
    ...(values?.upstreams && { upstreams: values.upstreams }),
    ...(values?.routes && { routes: values.routes }),
  };
  const tuning = Object.fromEntries(
    [...chosen].filter(([key]) => (SETTINGS[key] as Setting).perUpstream).map(([key, { raw }]) => [key, raw]),
  );
  const plan = planRouting({ ...routing, ...tuning });
  if (!Array.isArray(plan)) return routing;
  for (const problem of plan) {
    if (problem.path[0] === "upstream") bad("upstream", problem.message);
    else fileProblems.push(problem);
  }
  return routing;
}

/** "2 upstreams (greeter: dns:///greeter:50051; echo: …), 3 routes", for --check-config and the start's log. */
export function describeRouting({ upstream, upstreams, routes }: RoutingOptions): string {
  if (upstream !== undefined) return `every call goes to ${upstream}`;
  const entries = Object.entries(upstreams ?? {});
  const list = entries.map(([name, { addresses }]) => `${name}: ${addresses.join(", ")}`).join("; ");
  const routeCount = routes === undefined ? "every call to it" : `${routes.length} routes`;
  return `${entries.length} upstream${entries.length === 1 ? "" : "s"} (${list}), ${routeCount}`;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}
