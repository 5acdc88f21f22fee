/** Where `npm start` listens, and which greeter the proxy calls. */
export interface DemoConfig {
  /** The page and the proxy, on one origin. */
  host: string;
  port: number;
  /** The embedded greeter's address; unused when greeterUrl is set. */
  greeterHost: string;
  greeterPort: number;
  /** An already running greeter to call instead of starting one (Docker Compose runs it apart). */
  greeterUrl: string | undefined;
}

/** Reads the environment; a bad value is an Error whose message names the variable. */
export function demoConfig(env: NodeJS.ProcessEnv): DemoConfig | Error {
  const port = portFrom(env, "PORT", 8080);
  const greeterPort = portFrom(env, "GREETER_PORT", 50051);
  if (port instanceof Error) return port;
  if (greeterPort instanceof Error) return greeterPort;
  return {
    host: env.HOST || "localhost",
    port,
    greeterHost: env.GREETER_HOST || "127.0.0.1",
    greeterPort,
    greeterUrl: env.GREETER_URL || undefined,
  };
}

function portFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number | Error {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    return new Error(`${name} must be a port number from 0 to 65535, got "${text}"`);
  return port;
}
