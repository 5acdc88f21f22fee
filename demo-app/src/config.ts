/** Where `npm start` listens, and which greeter the proxy calls. */
export interface DemoConfig {
  /** The page and the proxy, on one origin. */
  host: string;
  port: number;
  /** Where the proxy serves /healthz, /readyz and /metrics (on `host`); off when undefined. */
  adminPort: number | undefined;
  /** The embedded greeter's address; unused when greeterUrl is set. */
  greeterHost: string;
  greeterPort: number;
  /** An already running greeter to call instead of starting one (Docker Compose runs it apart). */
  greeterUrl: string | undefined;
  /** The proxy as the browser reaches it, for the page served alone (`page`). */
  proxyUrl: string | undefined;
}

/** Reads the environment; a bad value is an Error whose message names the variable. */
export function demoConfig(env: NodeJS.ProcessEnv): DemoConfig | Error {
  const port = portFrom(env, "PORT", 8080);
  const greeterPort = portFrom(env, "GREETER_PORT", 50051);
  const adminPort = portFrom(env, "ADMIN_PORT", undefined);
  if (port instanceof Error) return port;
  if (greeterPort instanceof Error) return greeterPort;
  if (adminPort instanceof Error) return adminPort;
  const proxyUrl = env.PROXY_URL || undefined;
  if (proxyUrl !== undefined && !(/^https?:\/\//.test(proxyUrl) && URL.canParse(proxyUrl)))
    return new Error(`PROXY_URL must be a URL such as http://localhost:8081, got "${proxyUrl}"`);
  return {
    host: env.HOST || "localhost",
    port,
    adminPort,
    greeterHost: env.GREETER_HOST || "127.0.0.1",
    greeterPort,
    greeterUrl: env.GREETER_URL || undefined,
    proxyUrl,
  };
}

function portFrom<T extends number | undefined>(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: T,
): number | T | Error {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    return new Error(`${name} must be a port number from 0 to 65535, got "${text}"`);
  return port;
}
