import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { FastifyBaseLogger } from "fastify";

/**
 * What the proxy reads of an HTTP request it serves: Fastify's request has all of it, and a gRPC-Web POST
 * served below Fastify's router (plugin/direct.ts) has its own, made without Fastify's per-request objects.
 */
export interface ServedRequest {
  readonly raw: IncomingMessage;
  readonly headers: IncomingHttpHeaders;
  /** The id Fastify logs the request under (`reqId`). */
  readonly id: string;
  /** The request's logger: its lines carry `reqId`. */
  readonly log: FastifyBaseLogger;
  /** The client's address, as Fastify's `request.ip` gives it. */
  readonly ip: string | undefined;
}
