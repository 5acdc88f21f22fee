import type { SecureClientSessionOptions } from "node:http2";
import type { FastifyBaseLogger } from "fastify";
import { usesTls } from "./address.js";
import type { Resolver } from "./resolver.js";
import type { PlannedUpstream } from "./routing.js";
import { Upstream } from "./upstream.js";

export interface RunningUpstream {
  readonly upstream: Upstream;
  readonly healthCheckService: string | undefined;
}

export interface UpstreamsContext {
  readonly log: FastifyBaseLogger;
  /** Resolves `dns:///` hosts; default: the system's resolver. */
  readonly resolve?: Resolver | undefined;
  /** TLS settings for an upstream with an `https://` or `dns+https:///` address (read once, at start). */
  readonly tls?: () => SecureClientSessionOptions | undefined;
}

/**
 * The plan's upstreams, running: each resolved once (so the first calls find addresses) and kept
 * current after. A name that does not resolve yet is logged, not fatal: a Kubernetes Service may
 * have no ready pod when the proxy starts.
 */
export async function startUpstreams(
  planned: readonly PlannedUpstream[],
  { log, resolve, tls }: UpstreamsContext,
): Promise<RunningUpstream[]> {
  const running = planned.map(({ name, addresses, authority, tuning }) => {
    const { healthCheckService, dnsRefreshMs, ...pool } = tuning;
    const connectOptions = addresses.some(usesTls) ? tls?.() : undefined;
    const upstream = new Upstream({
      name,
      addresses,
      ...(authority !== undefined && { authority }),
      pool,
      ...(connectOptions && { connectOptions }),
      ...(dnsRefreshMs !== undefined && { dnsRefreshMs }),
      ...(resolve && { resolve }),
      log: log.child({ upstream: name }),
    });
    return { upstream, healthCheckService };
  });
  await Promise.all(running.map(({ upstream }) => upstream.start()));
  return running;
}
