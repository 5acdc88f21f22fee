import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BridgedCall } from "../bridge/call.js";
import { WebResponse } from "../bridge/web-response.js";
import { parseWebContentType, responseContentType } from "../protocol/content-type.js";
import { Code, GrpcError } from "../protocol/status.js";
import { UpstreamPool } from "../upstream/pool.js";
import { CorsPolicy } from "./cors.js";
import { type GrpcWebProxyOptions, resolveOptions } from "./options.js";

/** `/package.Service/Method`: gRPC's path shape, so the plugin never claims the host app's other routes. */
const GRPC_PATH = "/:service/:method";
/** The same with a dotted (package-qualified) service, for answering other HTTP methods with 405. */
const QUALIFIED_GRPC_PATH = "/:service(^\\w+\\.[\\w.]+$)/:method";
const VALID_PATH = /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/;

/**
 * The gRPC-Web proxy as a Fastify plugin. Register it without fastify-plugin's
 * skip-override: its raw-body parser and error handler stay inside its own scope.
 */
export async function grpcWebProxy(fastify: FastifyInstance, options: GrpcWebProxyOptions): Promise<void> {
  const settings = resolveOptions(options);
  const pool = new UpstreamPool({ url: settings.upstream });
  const cors = new CorsPolicy(settings.allowedOrigins);
  const limits = { maxMessageBytes: settings.maxMessageBytes, maxTimeoutMs: settings.maxTimeoutMs };

  fastify.addHook("onClose", () => pool.close());
  // The body is read as a stream by the call itself, never parsed or buffered by Fastify.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser("*", (_request, _payload, done) => done(null));
  // Fastify rejects a POST without content-type before any handler runs.
  fastify.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    reply.hijack();
    if (error.statusCode === 415) {
      unsupportedMediaType(request.raw, reply.raw, cors);
      return;
    }
    request.log.error({ err: error }, "gRPC-Web request failed before it reached the proxy");
    reply.raw.writeHead(error.statusCode ?? 500, { "content-type": "text/plain" }).end(error.message);
  });

  fastify.route({ method: "OPTIONS", url: GRPC_PATH, handler: preflight });
  fastify.route({ method: "POST", url: GRPC_PATH, handler: call });
  fastify.route({
    method: ["GET", "HEAD", "PUT", "DELETE", "PATCH"],
    url: QUALIFIED_GRPC_PATH,
    handler: (_request, reply) =>
      reply.code(405).header("allow", "POST, OPTIONS").send("gRPC-Web calls are POSTs\n"),
  });

  function preflight(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const { raw: req } = request;
    const verdict = cors.check(req.headers, isSecure(req));
    if (!verdict.allowed) {
      logRejectedOrigin(request, verdict.origin);
      reply.raw
        .writeHead(403, { "content-type": "text/plain" })
        .end(`origin ${verdict.origin} is not allowed\n`);
      return;
    }
    reply.raw.writeHead(204, cors.preflightHeaders(verdict, req.headers)).end();
  }

  function call(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const { raw: req } = request;
    const res = reply.raw;
    const verdict = cors.check(req.headers, isSecure(req));
    const contentType = parseWebContentType(req.headers["content-type"]);
    if (!contentType) {
      unsupportedMediaType(req, res, cors);
      return;
    }
    const encoding = responseContentType(req.headers.accept, contentType);
    if (!verdict.allowed) {
      logRejectedOrigin(request, verdict.origin);
      const web = new WebResponse(res, encoding, {});
      web.fail(new GrpcError(Code.PERMISSION_DENIED, `origin ${verdict.origin} is not allowed`), true, true);
      return;
    }
    const path = pathOf(req.url ?? "");
    const web = new WebResponse(res, encoding, verdict.headers);
    if (!VALID_PATH.test(path)) {
      web.fail(new GrpcError(Code.UNIMPLEMENTED, `"${path}" is not a gRPC method path`), true, true);
      return;
    }
    new BridgedCall({ req, path, contentType, pool, limits }, web, res).start();
  }
}

function isSecure(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

function unsupportedMediaType(req: IncomingMessage, res: ServerResponse, cors: CorsPolicy): void {
  const verdict = cors.check(req.headers, isSecure(req));
  const type = req.headers["content-type"] ?? "none";
  res
    .writeHead(415, {
      ...(verdict.allowed ? verdict.headers : {}),
      "content-type": "text/plain",
      connection: "close",
    })
    .end(
      `content-type ${type} is not gRPC-Web: use application/grpc-web[+proto|+json] or application/grpc-web-text\n`,
    );
}

function logRejectedOrigin(request: FastifyRequest, origin: string): void {
  request.log.warn(
    { origin },
    `rejected a call from origin ${origin}: allow it with --allowed-origin ${origin} (or allowedOrigins)`,
  );
}
