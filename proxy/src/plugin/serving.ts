import { createHash } from "node:crypto";
import type { SecureClientSessionOptions } from "node:http2";
import type { FastifyBaseLogger } from "fastify";
import type { CallLimits, HeaderPolicy } from "../call/bridged-call.js";
import { ResponseCompression } from "../call/response-compression.js";
import { RouteTable } from "../upstream/routes.js";
import type { PlannedUpstream } from "../upstream/routing.js";
import { INSECURE_SKIP_VERIFY_WARNING, upstreamConnectOptions } from "../upstream/tls.js";
import type { Upstream } from "../upstream/upstream.js";
import { type RunningUpstream, startUpstreams } from "../upstream/upstreams.js";
import { CorsPolicy } from "./cors.js";
import { type InterceptorChain, interceptorChain } from "./interceptors.js";
import { type ResolvedCallLimits, resolveCallLimits } from "./limits.js";
import { type GrpcWebProxyOptions, resolveOptions } from "./options.js";
import { PublicHosts } from "./public-hosts.js";

/**
 * What the plugin serves calls with, built from its options: at registration, and again at each reload. A call
 * takes the one current when it arrives and keeps it to its end, so a reload never changes a call in flight.
 */
export interface Serving {
  readonly routes: RouteTable<Upstream>;
  readonly cors: CorsPolicy;
  /** undefined: the default, decided once the server listens. */
  readonly publicHosts: PublicHosts | undefined;
  readonly limits: CallLimits;
  readonly admissionLimits: ResolvedCallLimits;
  readonly headerPolicy: HeaderPolicy;
  readonly intercept: InterceptorChain | undefined;
  /** undefined: responses go out uncompressed. */
  readonly compression: ResponseCompression | undefined;
  /** By name, with what tells whether a reload changed them. */
  readonly upstreams: ReadonlyMap<string, ServedUpstream>;
}

export interface ServedUpstream extends RunningUpstream {
  /** Equal for two configurations of an upstream that would behave alike: addresses, tuning, TLS files. */
  readonly definition: string;
}

export interface ServingContext {
  readonly log: FastifyBaseLogger;
  readonly resolveHost: GrpcWebProxyOptions["resolveHost"];
}

/**
 * Checks `options` (a TypeError lists every problem) and builds what they serve. An upstream defined as in
 * `previous` is that same running upstream, sessions and all; others are started. Nothing of `previous` changes.
 */
export async function startServing(
  options: GrpcWebProxyOptions,
  { log, resolveHost }: ServingContext,
  previous?: Serving,
): Promise<Serving> {
  const settings = resolveOptions(options);
  if (options.upstreamTls?.insecureSkipVerify) log.warn(INSECURE_SKIP_VERIFY_WARNING);
  // Read once per configuration: a renewed CA or client certificate makes its upstreams new ones.
  let tls: SecureClientSessionOptions | undefined;
  const tlsOnce = () => {
    tls ??= upstreamConnectOptions(options.upstreamTls);
    return tls;
  };
  const kept: ServedUpstream[] = [];
  const added: { planned: PlannedUpstream; definition: string }[] = [];
  for (const planned of settings.routing.upstreams) {
    const definition = definitionOf(planned, options.upstreamTls && tlsOnce());
    const same = previous?.upstreams.get(planned.name);
    if (same?.definition === definition) kept.push(same);
    else added.push({ planned, definition });
  }
  const started = await startUpstreams(
    added.map(({ planned }) => planned),
    { log, resolve: resolveHost, tls: tlsOnce },
  );
  const upstreams = new Map<string, ServedUpstream>(kept.map((u) => [u.upstream.name, u]));
  for (const [i, running] of started.entries()) {
    upstreams.set(running.upstream.name, {
      ...running,
      definition: (added[i] as { definition: string }).definition,
    });
  }
  const admissionLimits = resolveCallLimits(options);
  return {
    routes: new RouteTable(
      settings.routing.routes.map(({ match, target }) => ({
        match,
        target: (upstreams.get(target) as ServedUpstream).upstream,
      })),
    ),
    cors: new CorsPolicy(settings.allowedOrigins),
    publicHosts: settings.publicHosts && new PublicHosts(settings.publicHosts),
    limits: {
      ...admissionLimits,
      maxMessageBytes: settings.maxMessageBytes,
      maxTimeoutMs: settings.maxTimeoutMs,
    },
    admissionLimits,
    headerPolicy: settings.headerPolicy,
    intercept: interceptorChain(options.interceptors),
    compression: ResponseCompression.of(settings.responseCompression),
    upstreams,
  };
}

/** The upstreams of `serving` that `next` does not serve: to close once their calls end. */
export function upstreamsLeft(serving: Serving, next: Serving): Upstream[] {
  return [...serving.upstreams.values()]
    .filter(({ upstream }) => next.upstreams.get(upstream.name)?.upstream !== upstream)
    .map(({ upstream }) => upstream);
}

function definitionOf(planned: PlannedUpstream, tls: SecureClientSessionOptions | undefined): string {
  const hash = createHash("sha256").update(JSON.stringify(planned));
  if (tls) {
    for (const [key, value] of Object.entries(tls)) {
      hash.update(`\0${key}\0`).update(Buffer.isBuffer(value) ? value : String(value));
    }
  }
  return hash.digest("hex");
}
