import type { FastifyInstance } from "fastify";
import type { ProxyOps } from "./ops.js";

/**
 * Shuts a proxy app down gracefully, as on SIGTERM: readiness turns false and
 * new calls are refused with UNAVAILABLE at once, the listener closes, calls in
 * flight get `graceMs` to end and the rest are ended with UNAVAILABLE in a
 * trailer frame; then the app closes, which closes the upstream sessions with
 * GOAWAY. Resolves to how many calls had to be ended.
 */
export async function drainAndClose(app: FastifyInstance, ops: ProxyOps, graceMs: number): Promise<number> {
  const draining = ops.drain(graceMs);
  app.server.close();
  const ended = await draining;
  await app.close();
  return ended;
}
