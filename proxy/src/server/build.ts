import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import { requestIdFor } from "../ops/request-id.js";
import type { GrpcWebProxyOptions } from "./options.js";
import { grpcWebProxy } from "./plugin.js";

export interface ServerOptions extends GrpcWebProxyOptions {
  /** Fastify's logger option: true, false, or pino options. Default true (info level). */
  readonly logger?: FastifyServerOptions["logger"];
}

/** A Fastify app that serves the proxy and nothing else; call `listen()` on it. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { logger = true, ...proxyOptions } = options;
  const app = Fastify({
    logger,
    // Fastify's own request logging does not see hijacked replies; calls log themselves.
    logController: new LogController({ disableRequestLogging: true }),
    // Every log line of a request carries its x-request-id, the one the backend also gets.
    genReqId: requestIdFor,
  });
  await app.register(grpcWebProxy, proxyOptions);
  return app;
}
