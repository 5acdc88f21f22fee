import type { Http2SecureServer, Http2ServerRequest } from "node:http2";
import Fastify, {
  type FastifyHttp2SecureOptions,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { requestIdFor } from "../ops/request-id.js";
import { optionProblems, optionValue, throwIfProblems } from "../settings/option-check.js";
import {
  answerClientError,
  applyConnectionLimits,
  type ConnectionLimitOptions,
} from "./connection-limits.js";
import { type DirectCall, serveBelowRouter } from "./direct.js";
import { type DownstreamTlsOptions, reloadOnChange, secureContextOptions } from "./downstream-tls.js";
import { type GrpcWebProxyOptions, PLUGIN_CODE_OPTIONS } from "./options.js";
import { serveProxy } from "./plugin.js";
import { lazySchemaCompilers } from "./schema-compilers.js";

export interface ServerOptions extends GrpcWebProxyOptions, ConnectionLimitOptions {
  /** Fastify's logger option: true, false, or pino options. Default true (info level). */
  readonly logger?: FastifyServerOptions["logger"];
  /** TLS on the public port, with HTTP/2 and HTTP/1.1 side by side (ALPN); default: plain HTTP/1.1. */
  readonly tls?: DownstreamTlsOptions;
}

/** A path segment can be no longer than the request head, which Node's header limit bounds anyway. */
const MAX_PATH_SEGMENT_CHARS = 64 * 1024;

/** A Fastify app that serves the proxy and nothing else; call `listen()` on it. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  throwIfProblems(
    "grpc-web-bridge options",
    optionProblems(options, ["plugin", "server"], [...PLUGIN_CODE_OPTIONS, "logger", "tls"]),
  );
  const { logger = true, tls } = options;
  const common = {
    // Fastify's own request logging does not see hijacked replies; calls log themselves.
    logController: new LogController({ disableRequestLogging: true }),
    clientErrorHandler: answerClientError,
    // The proxy checks method paths itself and answers any of them with a gRPC status; Fastify's default limit of
    // 100 characters per path segment refused long package-qualified service names with a bare 414.
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT_CHARS },
    schemaController: lazySchemaCompilers,
  };
  // Every log line of a request carries its x-request-id, the one the backend also gets.
  // The call path takes Node's request and response, which HTTP/2's compat objects stand in for
  // (requestIdFor too: it reads and sets one header), so the app is typed as the HTTP/1.1 one.
  const app = tls
    ? (Fastify<Http2SecureServer>({
        ...common,
        logger: logger as FastifyHttp2SecureOptions<Http2SecureServer>["logger"],
        genReqId: requestIdFor as unknown as (req: Http2ServerRequest) => string,
        http2: true,
        https: {
          allowHTTP1: true,
          ...secureContextOptions(tls),
          // Compliant clients then queue their calls instead of being refused past the per-connection limit.
          settings: { maxConcurrentStreams: optionValue(options, "maxCallsPerConnection") as number },
        },
      }) as unknown as FastifyInstance)
    : Fastify({ ...common, logger, genReqId: requestIdFor });
  applyConnectionLimits(app.server, {
    headersTimeoutMs: optionValue(options, "headersTimeout") as number,
    requestTimeoutMs: optionValue(options, "requestTimeout") as number,
    maxHeaderBytes: optionValue(options, "maxHeaderBytes") as number,
  });
  if (tls) {
    const stop = reloadOnChange(app.server as never, tls, app.log);
    app.addHook("onClose", async () => stop());
  }
  let direct: DirectCall | undefined;
  await app.register(async (scope: FastifyInstance, plugin: GrpcWebProxyOptions) => {
    direct = await serveProxy(scope, plugin);
  }, pluginOptions(options));
  serveBelowRouter(app, direct as DirectCall);
  return app;
}

/** The plugin's part of `buildServer`'s options, as at start and for `ProxyOps.reload`: the rest are the server's. */
export function pluginOptions(options: ServerOptions): GrpcWebProxyOptions {
  const { logger, tls, headersTimeout, requestTimeout, ...plugin } = options;
  return plugin;
}
