import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import Fastify from "fastify";

export interface PageServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The built page: index.html, main.js, main.css. */
  pageDir: string;
  /** The proxy's address as the browser reaches it. */
  proxyUrl: string;
}

/** Serves the built page with the proxy's address in index.html, where the page looks for it. */
export async function startPageServer(
  options: PageServerOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const template = await readFile(join(options.pageDir, "index.html"), "utf8");
  const meta = `<meta name="${PROXY_URL_META}" content="${escapeAttribute(options.proxyUrl)}" />`;
  const html = template.replace("</head>", `    ${meta}\n  </head>`);
  const app = Fastify({ logger: false });
  await app.register(fastifyStatic, { root: options.pageDir, index: false });
  for (const url of ["/", "/index.html"])
    app.get(url, (_request, reply) => reply.type("text/html").send(html));
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () => app.close(),
  };
}

/** The `<meta name>` that carries the proxy's address to the page (see web/main.ts). */
export const PROXY_URL_META = "grpc-web-proxy";

function escapeAttribute(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
}
