import fastifyStatic from "@fastify/static";
import Fastify from "fastify";
import { grpcWebProxy } from "grpc-web-bridge";

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
  await app.register(fastifyStatic, { root: options.pageDir });
  await app.register(grpcWebProxy, {
    upstream: options.upstream,
    ...(options.allowedOrigins && { allowedOrigins: options.allowedOrigins }),
  });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () => app.close(),
  };
}
