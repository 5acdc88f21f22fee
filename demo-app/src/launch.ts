// What the entry points (start, greeter, dev) share: reading the environment and starting a greeter.
import { formatCall } from "./call-log.js";
import { type DemoConfig, demoConfig } from "./config.js";
import { type RunningGreeter, startGreeterServer } from "./greeter/server.js";

/** The environment's settings; a bad value ends the process with a message naming the variable. */
export function configOrExit(): DemoConfig {
  const config = demoConfig(process.env);
  if (config instanceof Error) exitWith(config.message);
  return config;
}

/** The greeter on GREETER_HOST:GREETER_PORT, printing one line per finished call. */
export function startLoggedGreeter(config: DemoConfig): Promise<RunningGreeter> {
  return startGreeterServer({
    host: config.greeterHost,
    port: config.greeterPort,
    observer: (record) => console.log(formatCall(record)),
  });
}

export function exitWith(message: string): never {
  console.error(message);
  process.exit(1);
}
