import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ServerOptions, WebSocket, WebSocketServer } from "ws";
import { BridgedCall } from "../call/bridged-call.js";
import type { Refusal } from "../call/outcome.js";
import { UpstreamStream } from "../call/upstream-stream.js";
import { WebSocketSide } from "../call/websocket-side.js";
import type { ProxyOps } from "../ops/ops.js";
import { requestIdFor } from "../ops/request-id.js";
import { Code, GrpcError } from "../protocol/status.js";
import { callHeaders } from "../protocol/websocket/header-lines.js";
import { GRPC_WEBSOCKETS, selectSubprotocol } from "../protocol/websocket/subprotocol.js";
import { optionValue } from "../settings/option-check.js";
import type { Upstream } from "../upstream/upstream.js";
import type { OriginVerdict } from "./cors.js";
import type { CallAdmission } from "./limits.js";
import type { GrpcWebProxyOptions } from "./options.js";
import type { Serving } from "./serving.js";

/** The socket and first bytes of an upgrade request, kept on it while Fastify routes it. */
const UPGRADE = Symbol("upgrade");
type UpgradeRequest = IncomingMessage & { [UPGRADE]?: { socket: Duplex; head: Buffer } };
/** Servers whose upgrades are routed through Fastify already: one listener however many plugins share a server. */
const ROUTED = new WeakSet<object>();
/** A control byte and one frame header before a request message's bytes. */
const MESSAGE_OVERHEAD = 1 + 5;
const SHUTTING_DOWN = new GrpcError(Code.UNAVAILABLE, "the proxy is shutting down");
const require = createRequire(import.meta.url);
// Required, not imported: on Node 22, importing node:http into an ES module reads every export, its lazy WebSocket
// ones too, which load undici's WebSocket (about 3 MiB of RSS at start, for a proxy that never uses it).
const http = require("node:http") as typeof import("node:http");

/** What WebSocket calls share with HTTP calls: one policy for both, made once by the plugin. */
export interface WebSocketCallsDeps {
  readonly options: Pick<GrpcWebProxyOptions, "websocketFirstMessageTimeout" | "websocketPingInterval">;
  readonly ops: ProxyOps;
  readonly admission: CallAdmission;
  /** What calls are served with now; a call keeps the one current at its upgrade, whatever a reload brings. */
  serving(): Serving;
  /** Answers a request for a host the proxy does not answer to; true if it did. */
  refusedHost(request: FastifyRequest, res: ServerResponse, serving: Serving): boolean;
  /** Logs an origin refused. */
  rejectedOrigin(request: FastifyRequest, origin: string): void;
  /** The upstream of a call on `path`, or why the proxy answers it itself. */
  route(verdict: OriginVerdict, path: string, serving: Serving): Upstream | Refusal;
}

/**
 * Routes a server's upgrade requests through Fastify like any other request, so a WebSocket call meets the same
 * hooks, logger and request id as an HTTP one, and reaches the plugin's GET route of the method's path. A request no
 * route takes is answered by Fastify (404) on the socket.
 */
export function routeUpgrades(fastify: FastifyInstance): void {
  const server = fastify.server;
  if (ROUTED.has(server)) return;
  ROUTED.add(server);
  server.on("upgrade", (req: UpgradeRequest, socket: Duplex, head: Buffer) => {
    // Node took its own error listener off the socket with the upgrade.
    socket.on("error", destroy);
    // A WebSocket opens with a GET (RFC 6455 §4.1); a body after any other upgrade request would never be read.
    if (req.method !== "GET" || !/^websocket$/i.test(req.headers.upgrade ?? "")) {
      serveWithoutUpgrade(server, req, socket, head);
      return;
    }
    req[UPGRADE] = { socket, head };
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as Socket);
    // An answer instead of the upgrade (a refusal, Fastify's 404) is the last thing on this connection.
    res.once("finish", () => socket.end());
    fastify.routing(req, res);
  });
}

/**
 * Node 20 hands every request that asks for an upgrade to the server's `upgrade` listener once there is one, h2c
 * included. A request that is not a WebSocket's opening GET goes back to the server as the plain HTTP/1.1 request it
 * would have been without that listener: its head, rebuilt from what Node parsed without `Upgrade` and without that
 * token in `Connection`, is put back in front of the bytes already read, and the socket served anew.
 */
function serveWithoutUpgrade(server: EventEmitter, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    if (/^upgrade$/i.test(name)) continue;
    if (/^connection$/i.test(name)) {
      value = value
        .split(",")
        .map((token) => token.trim())
        .filter((token) => token !== "" && token.toLowerCase() !== "upgrade")
        .join(", ");
      if (value === "") continue;
    }
    lines.push(`${name}: ${value}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), head]));
  server.emit((socket as { encrypted?: boolean }).encrypted ? "secureConnection" : "connection", socket);
}

/** True when Fastify is routing an upgrade request. */
export function isUpgrade(req: IncomingMessage): boolean {
  return (req as UpgradeRequest)[UPGRADE] !== undefined;
}

/**
 * gRPC calls over WebSocket (docs/websocket.md): the upgrade is checked like an HTTP call (host, origin) and refused
 * before it when it must be; after it, every call goes through the same call core as an HTTP call, with a
 * `WebSocketSide` as its browser side.
 */
export class WebSocketCalls {
  readonly #deps: WebSocketCallsDeps;
  readonly #serverOptions: ServerOptions;
  /**
   * Made at the first upgrade, with ws: a proxy that no WebSocket call reaches does not carry ws (about 1 MiB).
   * ws takes its message size limit per server, so a reload that changes the limit has the next upgrade make
   * another; the sockets of the one before keep theirs. With `noServer` and no client tracking it holds no sockets.
   */
  #server: WebSocketServer | undefined;
  readonly #firstMessageTimeoutMs: number;
  readonly #pingIntervalMs: number | undefined;
  /** What ends each open socket when the plugin closes: its call's abort, or its side's refusal before one. */
  readonly #open = new Set<() => void>();

  constructor(deps: WebSocketCallsDeps) {
    this.#deps = deps;
    this.#firstMessageTimeoutMs = optionValue(deps.options, "websocketFirstMessageTimeout") as number;
    const ping = optionValue(deps.options, "websocketPingInterval") as number;
    this.#pingIntervalMs = ping === 0 ? undefined : ping;
    this.#serverOptions = {
      noServer: true,
      clientTracking: false,
      // Costs memory per socket, and compressing secrets with attacker-chosen data is how CRIME reads them.
      perMessageDeflate: false,
      handleProtocols: (offered) => selectSubprotocol(offered) ?? false,
    };
  }

  /** Ends every open socket: their calls with UNAVAILABLE, as a drain that ran out would. */
  close(): void {
    for (const end of [...this.#open]) end();
    this.#open.clear();
  }

  /** A control byte and one frame of the largest allowed message always fit; nothing larger is buffered. */
  #serverFor(maxMessageBytes: number): WebSocketServer {
    const maxPayload = MESSAGE_OVERHEAD + maxMessageBytes;
    if (this.#server?.options.maxPayload !== maxPayload) {
      const { WebSocketServer } = require("ws") as typeof import("ws");
      this.#server = new WebSocketServer({ ...this.#serverOptions, maxPayload });
    }
    return this.#server;
  }

  /** The GET of a method's path with `Upgrade: websocket`. */
  call(request: FastifyRequest, reply: FastifyReply, path: string, secure: boolean): void {
    reply.hijack();
    const deps = this.#deps;
    const req = request.raw as UpgradeRequest;
    const res = reply.raw;
    const { socket, head } = req[UPGRADE] as { socket: Duplex; head: Buffer };
    const serving = deps.serving();
    if (deps.refusedHost(request, res, serving)) return;
    if (selectSubprotocol(offeredProtocols(req.headers["sec-websocket-protocol"])) === undefined) {
      deps.ops.metrics.rejected("content_type");
      refuseUpgrade(res, 400, `a gRPC call over WebSocket needs the ${GRPC_WEBSOCKETS} subprotocol\n`);
      return;
    }
    const verdict = serving.cors.check(req.headers, secure);
    if (!verdict.allowed) {
      // Not covered by CORS: without this check any page could call with the user's cookies.
      deps.ops.metrics.rejected("cors");
      deps.rejectedOrigin(request, verdict.origin);
      refuseUpgrade(res, 403, `origin ${verdict.origin} is not allowed\n`);
      return;
    }
    this.#serverFor(serving.limits.maxMessageBytes).handleUpgrade(req, socket, head, (ws) =>
      this.#upgraded(request, res, ws, socket, path, verdict, secure, serving),
    );
  }

  #upgraded(
    request: FastifyRequest,
    res: ServerResponse,
    ws: WebSocket,
    socket: Duplex,
    path: string,
    verdict: OriginVerdict,
    secure: boolean,
    serving: Serving,
  ): void {
    const deps = this.#deps;
    const { ops } = deps;
    const req = request.raw;
    const requestId = requestIdFor(req);
    const routed = deps.route(verdict, path, serving);
    // A call counts against the limits from its upgrade to its socket's close.
    const refusal = "error" in routed ? routed : deps.admission.admit(req, res);
    const upstream = routed as Upstream;
    let end = () => side.refuse(SHUTTING_DOWN);
    const side = new WebSocketSide(
      ws,
      socket,
      {
        limits: {
          maxMessageBytes: serving.limits.maxMessageBytes,
          maxMetadataBytes: serving.admissionLimits.maxHeaderBytes,
        },
        firstMessageTimeoutMs: this.#firstMessageTimeoutMs,
        pingIntervalMs: this.#pingIntervalMs,
        goingAway: () => ops.draining,
      },
      {
        metadata: (metadata, contentType) => {
          const headers = callHeaders(req.headers, metadata);
          // One id for the call: the one logged since the upgrade, whatever the first message says.
          headers["x-request-id"] = requestId;
          const tracked = ops.track(request, {
            requestId,
            path,
            upstream: upstream.name,
            text: false,
            transport: "websocket",
          });
          end = () => tracked.abort(SHUTTING_DOWN);
          const call = new BridgedCall(
            {
              headers,
              path,
              contentType,
              clientAddress: req.socket.remoteAddress,
              clientProtocol: secure ? "https" : "http",
              limits: serving.limits,
              headerPolicy: serving.headerPolicy,
              ...(serving.intercept && { interception: serving.intercept(request, path, headers) }),
              observer: tracked,
              span: tracked.span,
            },
            side,
            new UpstreamStream(upstream),
          );
          tracked.run(call);
        },
        refused: (refusal) => ops.refused(request, requestId, path, refusal, "websocket"),
      },
    );
    if (refusal) {
      // After the upgrade, so that the client can read the status.
      side.refuse(refusal.error);
      ops.refused(request, requestId, path, refusal, "websocket");
      return;
    }
    const ending = () => end();
    this.#open.add(ending);
    ws.once("close", () => this.#open.delete(ending));
  }
}

/** `Sec-WebSocket-Protocol` is a comma-separated list, and may come more than once. */
function offeredProtocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header.join(",") : header).split(",").map((value) => value.trim());
}

function refuseUpgrade(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain", connection: "close" }).end(text);
}

function destroy(this: Duplex): void {
  this.destroy();
}
