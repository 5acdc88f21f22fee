import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import { requestIdFor } from "../ops/request-id.js";
import type { GrpcWebProxyOptions } from "./options.js";
import { grpcWebProxy } from "./plugin.js";

export interface ServerOptions extends GrpcWebProxyOptions {
  /** Fastify's logger option: true, false, or pino options. Default true (info level). */
  readonly logger?: FastifyServerOptions["logger"];
}

/** A path segment can be no longer than the request head, which Node's header limit bounds anyway. */
const MAX_PATH_SEGMENT_CHARS = 64 * 1024;

/** A Fastify app that serves the proxy and nothing else; call `listen()` on it. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { logger = true, ...proxyOptions } = options;
  const app = Fastify({
    logger,
    // Fastify's own request logging does not see hijacked replies; calls log themselves.
    logController: new LogController({ disableRequestLogging: true }),
    // Every log line of a request carries its x-request-id, the one the backend also gets.
    genReqId: requestIdFor,
    // The proxy checks method paths itself and answers any of them with a gRPC status; Fastify's default limit of
    // 100 characters per path segment refused long package-qualified service names with a bare 414.
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT_CHARS },
  });
  await app.register(grpcWebProxy, proxyOptions);
  return app;
}
