import { isDeepStrictEqual } from "node:util";
import type { FastifyBaseLogger } from "fastify";
import { type CliConfig, describeRouting, parseCli } from "../cli/arguments.js";
import type { ProxyOps } from "../ops/ops.js";
import { pluginOptions } from "../plugin/build.js";
import { configVersion } from "./config-version.js";

/**
 * What a running proxy cannot change: the sockets it listens on, its processes, its log's format, the Node server's
 * own limits, and the drain it was started with. A reload that changes one says so and leaves it as it is.
 */
const RESTART_ONLY: Readonly<Record<string, (config: CliConfig) => unknown>> = {
  listen: ({ host, port }) => ({ host, port }),
  adminListen: ({ admin }) => admin,
  workers: ({ workers }) => workers,
  logFormat: ({ logFormat }) => logFormat,
  "tlsCert, tlsKey, tlsLegacyClients": ({ proxy }) => proxy.tls,
  headersTimeout: ({ proxy }) => proxy.headersTimeout,
  requestTimeout: ({ proxy }) => proxy.requestTimeout,
  drainTimeout: ({ drainTimeoutMs }) => drainTimeoutMs,
  watchConfig: ({ watchConfig }) => watchConfig,
  "websocketFirstMessageTimeout, websocketPingInterval": ({ proxy }) => [
    proxy.websocketFirstMessageTimeout,
    proxy.websocketPingInterval,
  ],
};

export interface ReloaderOptions {
  /** The CLI's arguments and environment, read again at each reload with the files they name. */
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** The configuration the process started with. */
  readonly config: CliConfig;
  readonly ops: ProxyOps;
  readonly log: FastifyBaseLogger;
}

/**
 * Reloads the CLI's configuration into the running proxy, on SIGHUP or a changed file: the config file and the files
 * it names are read and checked as at start, and a configuration with any problem is rejected whole (every problem
 * logged as --check-config prints it); the old one keeps serving. Routes, upstreams, origins, auth, limits, timeouts
 * and the log level change for new calls; calls in flight keep what they started with. Reloads run one at a time.
 */
export class ConfigReloader {
  readonly #options: ReloaderOptions;
  #config: CliConfig;
  #version: string;
  #running: Promise<unknown> = Promise.resolve();

  constructor(options: ReloaderOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#version = configVersion(options.config);
    options.ops.configVersion = this.#version;
  }

  /** The configuration serving now. */
  get config(): CliConfig {
    return this.#config;
  }

  /** Reloads after any reload under way; resolves to whether the new configuration serves. */
  reload(trigger: string): Promise<boolean> {
    const next = this.#running.then(() => this.#reload(trigger));
    this.#running = next;
    return next;
  }

  async #reload(trigger: string): Promise<boolean> {
    const { argv, env, ops, log } = this.#options;
    const parsed = parseCli(argv, env);
    if (parsed.kind !== "run") {
      const problems = parsed.kind === "error" ? parsed.message.split("\n") : [`unexpected ${parsed.kind}`];
      return this.#rejected(trigger, problems);
    }
    const config = parsed.config;
    const version = configVersion(config);
    if (version === this.#version) {
      ops.metrics.reloaded("ok");
      log.info({ configVersion: version }, `${trigger}: configuration unchanged (version ${version})`);
      return true;
    }
    try {
      await ops.reload(pluginOptions(config.proxy));
    } catch (error) {
      return this.#rejected(trigger, (error as Error).message.split("\n"));
    }
    // Against the start: what needs a restart is still as the proxy started.
    const kept = Object.entries(RESTART_ONLY)
      .filter(([, read]) => !isDeepStrictEqual(read(config), read(this.#options.config)))
      .map(([name]) => name);
    log.level = config.logLevel;
    const from = this.#version;
    this.#config = config;
    this.#version = version;
    ops.configVersion = version;
    ops.metrics.reloaded("ok");
    log.info(
      { configVersion: version },
      `${trigger}: configuration reloaded (version ${from} -> ${version}); ${describeRouting(config.proxy)}`,
    );
    if (kept.length > 0) {
      log.warn(
        { restartOnly: kept },
        `${trigger}: ${kept.join("; ")} changed in the configuration but need a restart: still as the proxy started`,
      );
    }
    return true;
  }

  #rejected(trigger: string, problems: readonly string[]): false {
    const { ops, log } = this.#options;
    ops.metrics.reloaded("failed");
    const listed =
      problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join("\n  ")}`;
    log.error(
      { configVersion: this.#version },
      `${trigger}: configuration rejected, version ${this.#version} still serving: ${listed}`,
    );
    return false;
  }
}
