import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { lazySchemaCompilers } from "../plugin/schema-compilers.js";
import type { ProxyOps } from "./ops.js";

/**
 * The admin listener: `/healthz` (liveness), `/readyz` (readiness, 503 when
 * not ready) and `/metrics` (Prometheus text). A Fastify app of its own, so
 * none of it is ever reachable on the public port. Probes and scrapes are not
 * logged: they come every few seconds.
 */
export function buildAdminServer(ops: ProxyOps, logger?: FastifyBaseLogger): FastifyInstance {
  const admin = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    schemaController: lazySchemaCompilers,
  });
  admin.get("/healthz", () => ops.liveness());
  admin.get("/readyz", async (_request, reply) => {
    const report = await ops.readiness();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  admin.get("/metrics", async (_request, reply) => {
    const { registry } = ops.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return admin;
}
