import type { FastifyInstance } from "fastify";
import { buildServer, type ServerOptions } from "../../src/index.js";
import { LOOPBACK_HOSTS } from "../../src/plugin/public-hosts.js";

export interface RunningProxy {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The names a test proxy answers to: loopback ones, and proxy.test, the Host that raw-HTTP tests and the
 * malformed-input corpus send.
 */
export const TEST_PUBLIC_HOSTS = [...LOOPBACK_HOSTS, "proxy.test"];

/** The proxy on a free loopback port, quiet unless PROXY_LOG is set; `upstream` undefined when options name `upstreams`. */
export async function startProxy(
  upstream: string | undefined,
  options: Omit<ServerOptions, "upstream"> = {},
): Promise<RunningProxy> {
  const app = await buildServer({
    logger: process.env.PROXY_LOG ? { level: "debug" } : false,
    publicHosts: TEST_PUBLIC_HOSTS,
    ...options,
    ...(upstream !== undefined && { upstream }),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (typeof address !== "object" || !address) throw new Error("proxy did not bind");
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
