import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const HEADER = "x-request-id";
/** Long enough for any UUID, ULID or trace-style id; short and plain enough to log and forward as is. */
const VALID_ID = /^[\w.:+=/-]{1,128}$/;

/**
 * The request's id: its own `x-request-id` when that is a safe value, else a new
 * UUID. The id is written back into the request's headers, so the backend gets
 * the same id the proxy logs and returns, and a second look finds it there.
 * Fastify's `genReqId` can be this function, to log it as `reqId`.
 */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers[HEADER];
  if (typeof incoming === "string" && VALID_ID.test(incoming)) return incoming;
  const id = randomUUID();
  req.headers[HEADER] = id;
  return id;
}
