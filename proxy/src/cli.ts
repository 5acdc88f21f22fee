#!/usr/bin/env node
import cluster from "node:cluster";
import type { FastifyInstance } from "fastify";
import { type CliConfig, describeRouting, parseCli } from "./cli/arguments.js";
import { bufferedStdout } from "./cli/log-destination.js";
import { superviseWorkers } from "./cli/workers.js";
import { buildAdminServer } from "./ops/admin.js";
import { drainAndClose } from "./ops/drain.js";
import { ProxyOps } from "./ops/ops.js";
import { buildServer } from "./plugin/build.js";

const parsed = parseCli(process.argv.slice(2), process.env);
if (parsed.kind === "help") {
  console.log(parsed.text);
  process.exit(0);
}
if (parsed.kind === "error") {
  // A config file's problems come one per line, each with its file and line.
  const problems = parsed.message.split("\n");
  if (problems.length === 1) console.error(`grpc-web-bridge: ${parsed.message} (see --help)`);
  else console.error(`grpc-web-bridge: ${problems.length} problems:\n  ${problems.join("\n  ")}`);
  process.exit(2);
}
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

/** This process serves: alone, or as one of the workers. */
async function serve(config: CliConfig): Promise<void> {
  const ops = new ProxyOps();
  const app = await buildServer({
    ...config.proxy,
    ops,
    logger: { level: config.logLevel, stream: bufferedStdout() },
  });
  await app.listen({ host: config.host, port: config.port });
  app.log.info(`proxying gRPC-Web on ${config.host}:${config.port}; ${describeRouting(config.proxy)}`);
  let admin: FastifyInstance | undefined;
  if (config.admin) {
    admin = buildAdminServer(ops, app.log);
    await admin.listen(config.admin);
    app.log.info(`serving /healthz, /readyz and /metrics on ${config.admin.host}:${config.admin.port}`);
  }

  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) {
        app.log.warn(`${signal} again: exiting at once`);
        process.exit(1);
      }
      stopping = true;
      app.log.info(`${signal}: draining; calls in flight have ${config.drainTimeoutMs} ms to end`);
      drainAndClose(app, ops, config.drainTimeoutMs)
        .then(async (ended) => {
          if (ended > 0) app.log.warn(`ended ${ended} call(s) still in flight with UNAVAILABLE`);
          await admin?.close();
          process.exit(0);
        })
        .catch((error: unknown) => {
          app.log.error({ err: error }, "graceful shutdown failed");
          process.exit(1);
        });
    });
  }
}
