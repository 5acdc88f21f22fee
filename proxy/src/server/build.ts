import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import type { GrpcWebProxyOptions } from "./options.js";
import { grpcWebProxy } from "./plugin.js";

export interface ServerOptions extends GrpcWebProxyOptions {
  /** Fastify's logger option: true, false, or pino options. Default true (info level). */
  readonly logger?: FastifyServerOptions["logger"];
}

/** A Fastify app that serves the proxy and nothing else; call `listen()` on it. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { logger = true, ...proxyOptions } = options;
  // Fastify's own request logging does not see hijacked replies; calls log themselves.
  const app = Fastify({ logger, logController: new LogController({ disableRequestLogging: true }) });
  await app.register(grpcWebProxy, proxyOptions);
  return app;
}
