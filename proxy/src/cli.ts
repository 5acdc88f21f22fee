#!/usr/bin/env node
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { type CliConfig, describeRouting, parseCli } from "./cli/arguments.js";
import { bufferedStdout } from "./cli/log-destination.js";
import { listenOn, PortError } from "./cli/ports.js";
import { superviseWorkers } from "./cli/workers.js";
import { buildAdminServer } from "./ops/admin.js";
import { drainAndClose } from "./ops/drain.js";
import { defaultLogFormat, loggerOptions } from "./ops/log-format.js";
import { ProxyOps } from "./ops/ops.js";
import { buildServer } from "./plugin/build.js";
import { ConfigReloader } from "./reload/reloader.js";
import { ReloadSignal } from "./reload/signal.js";
import { reloadOnFileChange } from "./reload/watch.js";
import { startTracing } from "./tracing/start.js";

const argv = process.argv.slice(2);
const parsed = parseCli(argv, process.env);
if (parsed.kind === "help") {
  console.log(parsed.text);
  process.exit(0);
}
if (parsed.kind === "version") {
  // src/ and dist/ both sit beside the package's package.json.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  console.log(`grpc-web-bridge ${pkg.version}`);
  process.exit(0);
}
if (parsed.kind === "error") fail(parsed.message.split("\n"));
if (parsed.kind === "checked") {
  console.log(parsed.summary);
  process.exit(0);
}

const { config } = parsed;
if (config.workers > 1 && cluster.isPrimary) {
  superviseWorkers({ workers: config.workers, drainTimeoutMs: config.drainTimeoutMs });
} else {
  await serve(config);
}

/** Problems, one a line, and exit 2: nothing has started. */
function fail(problems: readonly string[]): never {
  if (problems.length === 1) console.error(`grpc-web-bridge: ${problems[0]} (see --help)`);
  else console.error(`grpc-web-bridge: ${problems.length} problems:\n  ${problems.join("\n  ")}`);
  process.exit(2);
}

/** This process serves: alone, or as one of the workers. */
async function serve(config: CliConfig): Promise<void> {
  // Before anything that waits: a SIGHUP while the proxy starts is held, not the end of the process.
  const reloadSignal = new ReloadSignal();
  // Process metrics cost memory and an event-loop monitor, for nobody when there is no /metrics to read them.
  const ops = new ProxyOps({ processMetrics: config.admin !== undefined });
  const app = await buildServer({
    ...config.proxy,
    ops,
    logger: await loggerOptions(config.logFormat ?? defaultLogFormat(), config.logLevel, bufferedStdout()),
  });
  // Before the proxy listens, so that its first call has a span too.
  if (config.tracing.kind === "on") ops.tracer = await startTracing(config.tracing, app.log);
  const admin = config.admin && buildAdminServer(ops, app.log);
  // The admin port first: when either port is taken, neither serves, and the public one never said it listens.
  let listening: { proxy: string; admin: string | undefined };
  try {
    const adminAddress =
      admin && config.admin ? await listenOn(admin, config.admin, "--admin-listen") : undefined;
    listening = { proxy: await listenOn(app, config, "--listen"), admin: adminAddress };
  } catch (error) {
    await Promise.all([app.close(), admin?.close()]);
    if (!(error instanceof PortError)) throw error;
    fail([error.message]);
  }
  app.log.info(`proxying gRPC-Web on ${listening.proxy}; ${describeRouting(config.proxy)}`);
  if (listening.admin) app.log.info(`serving /healthz, /readyz and /metrics on ${listening.admin}`);

  const reloader = new ConfigReloader({ argv, env: process.env, config, ops, log: app.log });
  reloadSignal.serve((trigger) => void reloader.reload(trigger));
  const stopWatching = config.watchConfig ? reloadOnFileChange(reloader) : undefined;

  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) {
        app.log.warn(`${signal} again: exiting at once`);
        process.exit(1);
      }
      stopping = true;
      stopWatching?.();
      app.log.info(`${signal}: draining; calls in flight have ${config.drainTimeoutMs} ms to end`);
      drainAndClose(app, ops, config.drainTimeoutMs)
        .then(async (ended) => {
          if (ended > 0) app.log.warn(`ended ${ended} call(s) still in flight with UNAVAILABLE`);
          await Promise.all([admin?.close(), ops.tracer?.shutdown()]);
          process.exit(0);
        })
        .catch((error: unknown) => {
          app.log.error({ err: error }, "graceful shutdown failed");
          process.exit(1);
        });
    });
  }
}
