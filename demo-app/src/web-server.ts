import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance } from "fastify";
import { buildAdminServer, grpcWebProxy, ProxyOps } from "grpc-web-bridge";

export interface WebServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The greeter's native gRPC address, e.g. http://127.0.0.1:50051. */
  upstream: string;
  /** The built page: index.html, main.js, main.css. */
  pageDir: string;
  /** Other origins allowed to call (a dev server); the page's own origin needs no entry. */
  allowedOrigins?: string[];
  /** Serve the proxy's /healthz, /readyz and /metrics on this port of `host` (for health checks). */
  adminPort?: number;
}

export interface RunningWebServer {
  port: number;
  close(): Promise<void>;
}

/**
 * One origin for everything: the page's static files and the gRPC-Web proxy in front of the greeter,
 * so the browser calls the proxy same-origin and no CORS setup is needed.
 */
export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  // forceCloseConnections: a stream a browser is still reading must not hold up shutdown.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const ops = options.adminPort === undefined ? undefined : new ProxyOps();
  await app.register(fastifyStatic, { root: options.pageDir });
  await app.register(grpcWebProxy, {
    upstream: options.upstream,
    ...(options.allowedOrigins && { allowedOrigins: options.allowedOrigins }),
    ...(ops && { ops }),
  });
  const admin = ops && buildAdminServer(ops);
  try {
    await app.listen({ host: options.host, port: options.port });
    await admin?.listen({ host: options.host, port: options.adminPort });
  } catch (error) {
    await closeAll(app, admin);
    throw error;
  }
  const address = app.server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () => closeAll(app, admin),
  };
}

async function closeAll(app: FastifyInstance, admin: FastifyInstance | undefined): Promise<void> {
  await Promise.all([app.close(), admin?.close()]);
}
