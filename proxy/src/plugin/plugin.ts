import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BridgedCall } from "../call/bridged-call.js";
import type { CallCause, Refusal } from "../call/outcome.js";
import { statusMetadata } from "../call/ports.js";
import { UpstreamStream } from "../call/upstream-stream.js";
import { WebResponse } from "../call/web-response.js";
import { ProxyOps } from "../ops/ops.js";
import { requestIdFor } from "../ops/request-id.js";
import type { ServedRequest } from "../ops/served-request.js";
import {
  parseWebContentType,
  responseContentType,
  WEB_CONTENT_TYPE_NAMES,
  type WebContentType,
} from "../protocol/content-type.js";
import { Code, GrpcError } from "../protocol/status.js";
import type { Upstream } from "../upstream/upstream.js";
import type { OriginVerdict } from "./cors.js";
import { type DirectCall, DirectRequest } from "./direct.js";
import { BodyBudget, CallAdmission } from "./limits.js";
import type { GrpcWebProxyOptions } from "./options.js";
import { defaultPublicHosts, PublicHosts } from "./public-hosts.js";
import { type Serving, startServing, upstreamsLeft } from "./serving.js";
import { isUpgrade, routeUpgrades, WebSocketCalls } from "./websocket.js";

/** `/package.Service/Method`: gRPC's path shape, so the plugin never claims the host app's other routes. */
const GRPC_PATH = "/:service/:method";
/** The same with a dotted (package-qualified) service, for answering other HTTP methods with 405. */
const QUALIFIED_GRPC_PATH = "/:service(^\\w+\\.[\\w.]+$)/:method";
const QUALIFIED_SERVICE = /^\w+\.[\w.]+$/;
const VALID_PATH = /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/;
const CORS: CallCause = { kind: "cors" };
const ROUTE: CallCause = { kind: "route" };
const DRAINING: CallCause = { kind: "draining" };
const TWO_HOSTS = Symbol("two Host headers");
/** How much of a browser-chosen value (an Origin, a Host) goes into one log line. */
const LOGGED_VALUE_LIMIT = 256;

/**
 * The gRPC-Web proxy as a Fastify plugin. Register it without fastify-plugin's
 * skip-override: its raw-body parser and error handler stay inside its own scope.
 */
export async function grpcWebProxy(fastify: FastifyInstance, options: GrpcWebProxyOptions): Promise<void> {
  await serveProxy(fastify, options);
}

/**
 * The plugin's work, returning what serves its gRPC-Web POSTs below Fastify's router, for a server that
 * routes them there (`buildServer`): the calls are the same, without Fastify's per-request objects.
 */
export async function serveProxy(
  fastify: FastifyInstance,
  options: GrpcWebProxyOptions,
): Promise<DirectCall> {
  const context = { log: fastify.log, resolveHost: options.resolveHost };
  let serving = await startServing(options, context);
  const admission = new CallAdmission(serving.admissionLimits);
  const bodyBudget = new BodyBudget(serving.admissionLimits.maxBufferedRequestBytes);
  const ops = options.ops ?? new ProxyOps({ processMetrics: false });
  const removeBodyBudget = ops.addBodyBudget(bodyBudget);
  /** What takes each served upstream out of health and metrics. */
  const watched = new Map<Upstream, () => void>();
  const watch = (next: Serving) => {
    for (const { upstream, healthCheckService } of next.upstreams.values()) {
      if (!watched.has(upstream)) watched.set(upstream, ops.addUpstream(upstream, healthCheckService));
    }
  };
  watch(serving);
  /** Upstreams a reload removed, closing once their calls end. */
  const closing = new Set<Promise<void>>();
  const removeReloadable = ops.addReloadable({
    async prepare(reloaded) {
      // The new options replace the old ones whole; ops and resolveHost stay what they were.
      const next = await startServing({ ...(reloaded as GrpcWebProxyOptions), ops }, context, serving);
      return {
        commit() {
          const left = upstreamsLeft(serving, next);
          serving = next;
          admission.setLimits(next.admissionLimits);
          bodyBudget.limit = next.admissionLimits.maxBufferedRequestBytes;
          watch(next);
          for (const upstream of left) {
            watched.get(upstream)?.();
            watched.delete(upstream);
            const closed = upstream.close().finally(() => closing.delete(closed));
            closing.add(closed);
          }
        },
        discard: () =>
          Promise.all(upstreamsLeft(next, serving).map((upstream) => upstream.close())).then(() => {}),
      };
    },
  });

  /** Loopback names when the server listens on loopback only: known once it listens. */
  let defaultHosts = new PublicHosts([]);
  fastify.addHook("onListen", async () => {
    defaultHosts = new PublicHosts(
      defaultPublicHosts(
        fastify.addresses().map((bound) => (typeof bound === "string" ? bound : bound.address)),
      ),
    );
    if (serving.publicHosts === undefined && defaultHosts.any) fastify.log.warn(ANY_HOST_WARNING);
  });

  /** Answers a request that names two hosts (400) or a host the proxy does not answer to (421); true if it did. */
  function refusedHost(request: ServedRequest, res: ServerResponse, publicHosts: PublicHosts): boolean {
    const req = request.raw;
    const host = hostOf(req);
    if (host === TWO_HOSTS) {
      ops.metrics.rejected("host");
      res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("two Host headers\n");
      return true;
    }
    const verdict = publicHosts.check(host);
    if (verdict.allowed) return false;
    ops.metrics.rejected("host");
    const shown = verdict.host.slice(0, LOGGED_VALUE_LIMIT);
    request.log.warn(
      { host: shown },
      `refused a request for host ${shown}: add it with --public-host (publicHosts)`,
    );
    res
      .writeHead(421, {
        "content-type": "text/plain",
        ...(req.httpVersionMajor === 1 && { connection: "close" }),
      })
      .end(`this proxy does not answer to host ${shown}\n`);
    return true;
  }

  const websocket = new WebSocketCalls({
    options,
    ops,
    admission,
    serving: () => serving,
    refusedHost: (request, res, current) => refusedHost(request, res, current.publicHosts ?? defaultHosts),
    rejectedOrigin: logRejectedOrigin,
    route: (verdict, path, current) => {
      const target = current.routes.lookup(path);
      return refusalOf(verdict, path, target, ops.draining) ?? (target as Upstream);
    },
  });
  routeUpgrades(fastify);

  fastify.addHook("onClose", async () => {
    websocket.close();
    removeReloadable();
    removeBodyBudget();
    for (const remove of watched.values()) remove();
    await Promise.all([
      ...[...serving.upstreams.values()].map(({ upstream }) => upstream.close()),
      ...closing,
    ]);
  });
  // The body is read as a stream by the call itself, never parsed or buffered by Fastify. Fastify caches the
  // parser it finds for a content type by name, but looks the catch-all up anew for every request, parsing the
  // header each time: the types browsers send get one by name.
  fastify.removeAllContentTypeParsers();
  const readByTheCall = (_request: FastifyRequest, _payload: unknown, done: (error: null) => void) =>
    done(null);
  fastify.addContentTypeParser([...WEB_CONTENT_TYPE_NAMES], readByTheCall);
  fastify.addContentTypeParser("*", readByTheCall);
  // Fastify rejects a POST without content-type before any handler runs.
  fastify.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    reply.hijack();
    if (error.statusCode === 415) {
      ops.metrics.rejected("content_type");
      const req = request.raw;
      const current = serving;
      if (refusedHost(request, reply.raw, current.publicHosts ?? defaultHosts)) return;
      unsupportedMediaType(req, reply.raw, current.cors.check(req.headers, isSecure(req)));
      return;
    }
    request.log.error({ err: error }, "gRPC-Web request failed before it reached the proxy");
    reply.raw.writeHead(error.statusCode ?? 500, { "content-type": "text/plain" }).end(error.message);
  });

  fastify.route({ method: "OPTIONS", url: GRPC_PATH, handler: preflight });
  fastify.route({ method: "POST", url: GRPC_PATH, handler: call });
  fastify.route({
    method: "GET",
    url: GRPC_PATH,
    exposeHeadRoute: false,
    handler: (request, reply) => {
      const { raw: req } = request;
      if (isUpgrade(req)) websocket.call(request, reply, pathOf(req.url ?? ""), isSecure(req));
      else if (QUALIFIED_SERVICE.test((request.params as { service: string }).service)) notAPost(reply);
      else reply.callNotFound();
    },
  });
  fastify.route({
    method: ["HEAD", "PUT", "DELETE", "PATCH"],
    url: QUALIFIED_GRPC_PATH,
    handler: (_request, reply) => notAPost(reply),
  });

  function notAPost(reply: FastifyReply): FastifyReply {
    ops.metrics.rejected("route");
    return reply.code(405).header("allow", "POST, OPTIONS").send("gRPC-Web calls are POSTs\n");
  }

  function preflight(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const { raw: req } = request;
    const current = serving;
    if (refusedHost(request, reply.raw, current.publicHosts ?? defaultHosts)) return;
    const verdict = current.cors.check(req.headers, isSecure(req));
    if (!verdict.allowed) {
      ops.metrics.rejected("cors");
      logRejectedOrigin(request, verdict.origin);
      reply.raw
        .writeHead(403, { "content-type": "text/plain" })
        .end(`origin ${verdict.origin} is not allowed\n`);
      return;
    }
    reply.raw.writeHead(204, current.cors.preflightHeaders(verdict, req.headers)).end();
  }

  function call(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    serveCall(request, reply.raw, parseWebContentType(request.headers["content-type"]));
  }

  function direct(req: IncomingMessage, res: ServerResponse): boolean {
    const contentType = parseWebContentType(req.headers["content-type"]);
    // Any other request gets what Fastify's router gives it: its 404, its content-type checks, the call route.
    if (!contentType || !VALID_PATH.test(pathOf(req.url ?? ""))) return false;
    const request = new DirectRequest(req, fastify.log);
    try {
      serveCall(request, res, contentType);
    } catch (error) {
      // What Fastify's error handler does with a handler's exception: the process serves on.
      request.log.error({ err: error }, "gRPC-Web request failed before it reached the proxy");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end();
    }
    return true;
  }

  function serveCall(
    request: ServedRequest,
    res: ServerResponse,
    contentType: WebContentType | undefined,
  ): void {
    const { raw: req } = request;
    // The settings the call keeps to its end, whatever a reload brings meanwhile.
    const current = serving;
    if (refusedHost(request, res, current.publicHosts ?? defaultHosts)) return;
    const secure = isSecure(req);
    const verdict = current.cors.check(req.headers, secure);
    if (!contentType) {
      ops.metrics.rejected("content_type");
      unsupportedMediaType(req, res, verdict);
      return;
    }
    const requestId = requestIdFor(req);
    const path = pathOf(req.url ?? "");
    const encoding = responseContentType(req.headers.accept, contentType);
    const corsHeaders = verdict.allowed ? verdict.headers : {};
    const web = new WebResponse(req, res, encoding, corsHeaders, requestId, current.compression);
    const target = current.routes.lookup(path);
    const refusal = refusalOf(verdict, path, target, ops.draining) ?? admission.admit(req, res);
    if (refusal) {
      if (!verdict.allowed) logRejectedOrigin(request, verdict.origin);
      // The proxy answers by itself, and closes the connection: the body may still be on its way.
      web.trailersOnly(statusMetadata(refusal.error), true);
      ops.refused(request, requestId, path, refusal);
      return;
    }
    // refusalOf refused every call without an upstream.
    const upstream = target as Upstream;
    const tracked = ops.track(request, { requestId, path, upstream: upstream.name, text: contentType.text });
    const call = new BridgedCall(
      {
        headers: req.headers,
        path,
        contentType,
        clientAddress: req.socket.remoteAddress,
        clientProtocol: secure ? "https" : "http",
        limits: current.limits,
        headerPolicy: current.headerPolicy,
        bodyBudget,
        ...(current.intercept && { interception: current.intercept(request, path) }),
        observer: tracked,
        span: tracked.span,
      },
      web,
      new UpstreamStream(upstream),
    );
    tracked.run(call);
  }

  return direct;
}

/** Why the proxy must answer a call itself, if it must. */
function refusalOf(
  verdict: OriginVerdict,
  path: string,
  upstream: Upstream | undefined,
  draining: boolean,
): Refusal | undefined {
  if (!verdict.allowed) {
    return {
      cause: CORS,
      error: new GrpcError(Code.PERMISSION_DENIED, `origin ${verdict.origin} is not allowed`),
    };
  }
  if (!VALID_PATH.test(path)) {
    return {
      cause: ROUTE,
      error: new GrpcError(Code.UNIMPLEMENTED, `"${path}" is not a gRPC method path`),
    };
  }
  if (upstream === undefined) {
    return {
      cause: ROUTE,
      error: new GrpcError(
        Code.UNIMPLEMENTED,
        `no route for ${path}: the proxy forwards only the services its routes name`,
      ),
    };
  }
  if (draining)
    return { cause: DRAINING, error: new GrpcError(Code.UNAVAILABLE, "the proxy is shutting down") };
  return undefined;
}

/**
 * HTTP/2 names the host in `:authority` (RFC 9113 §8.3.1), which wins over a `host` header; CORS and
 * x-forwarded-host read Host. Undefined when the request names two hosts (RFC 9112 §3.2: answer 400).
 */
function hostOf(req: IncomingMessage): string | undefined | typeof TWO_HOSTS {
  if (req.httpVersionMajor === 2) {
    const authority = req.headers[":authority"] as string | undefined;
    if (authority !== undefined) req.headers.host = authority;
    return req.headers.host;
  }
  // Node keeps the first of two Host headers; the raw list shows the second.
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).length === 4 && /^host$/i.test(raw[i] as string)) hosts++;
  return hosts > 1 ? TWO_HOSTS : req.headers.host;
}

function isSecure(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

function unsupportedMediaType(req: IncomingMessage, res: ServerResponse, verdict: OriginVerdict): void {
  const type = req.headers["content-type"] ?? "none";
  res
    .writeHead(415, {
      ...(verdict.allowed ? verdict.headers : {}),
      "content-type": "text/plain",
      // HTTP/2 closes the stream alone; its connection carries other calls.
      ...(req.httpVersionMajor === 1 && { connection: "close" }),
    })
    .end(
      `content-type ${type} is not gRPC-Web: use application/grpc-web[+proto|+json] or application/grpc-web-text\n`,
    );
}

function logRejectedOrigin(request: ServedRequest, origin: string): void {
  // A browser chooses its Origin's length: a line of the log must not be the attacker's to size.
  const shown = origin.slice(0, LOGGED_VALUE_LIMIT);
  request.log.warn(
    { origin: shown },
    `rejected a call from origin ${shown}: allow it with --allowed-origin ${shown} (or allowedOrigins)`,
  );
}

const ANY_HOST_WARNING =
  "publicHosts is empty and the proxy listens beyond loopback: it answers to any Host, so a page on a DNS-rebinding " +
  "domain can call through it; name the hosts it serves with --public-host (publicHosts)";
