import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { requestIdFor } from "../ops/request-id.js";
import type { ServedRequest } from "../ops/served-request.js";

/**
 * Serves a gRPC-Web POST below Fastify's router; false, having done nothing, for a request Fastify must
 * route (another path, a content type the call would refuse).
 */
export type DirectCall = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Fastify's request as a call reads it, made without Fastify: the profile of a small call showed its
 * routing, content-type parsing, request and reply objects and response listeners at about a fifth of the
 * proxy's CPU. Only for the app `buildServer` makes, whose request ids are `requestIdFor`'s and whose
 * request loggers are the root logger's children bound to `reqId`, as here.
 */
export class DirectRequest implements ServedRequest {
  readonly raw: IncomingMessage;
  readonly headers: IncomingHttpHeaders;
  readonly id: string;
  readonly #root: FastifyBaseLogger;
  #log: FastifyBaseLogger | undefined;

  constructor(raw: IncomingMessage, root: FastifyBaseLogger) {
    this.raw = raw;
    this.headers = raw.headers;
    this.id = requestIdFor(raw);
    this.#root = root;
  }

  /**
   * A child per call, as Fastify makes, but only once something logs: the access line at the call's end, so an
   * open call does not hold one (with its bindings and formatters, about 0.15 KiB).
   */
  get log(): FastifyBaseLogger {
    this.#log ??= this.#root.child({ reqId: this.id });
    return this.#log;
  }

  get ip(): string | undefined {
    return this.raw.socket.remoteAddress;
  }
}

/**
 * Has `app`'s server hand gRPC-Web POSTs to `direct` before Fastify's router sees them, unless a request
 * hook of the app (its own or a plugin's) would run for them, which needs Fastify's request: then every
 * request is routed as before. A closing app's router answers new requests itself (503), so those go to it.
 */
export function serveBelowRouter(app: FastifyInstance, direct: DirectCall): void {
  let closing = false;
  app.addHook("onReady", async () => {
    // Fastify's one public view of the hooks that run for a route; each one prints as "• (hookName) [...]".
    if (app.printRoutes({ includeHooks: true, method: "POST", commonPrefix: false }).includes("• (")) return;
    const server = app.server;
    const routed = server.listeners("request")[0] as (req: IncomingMessage, res: ServerResponse) => void;
    server.removeListener("request", routed);
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (closing || req.method !== "POST" || !direct(req, res)) routed.call(server, req, res);
    });
  });
  app.addHook("preClose", async () => {
    closing = true;
  });
}
