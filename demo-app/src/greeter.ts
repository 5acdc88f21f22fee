// The greeter backend on its own, for Docker Compose and for native gRPC clients: GREETER_HOST, GREETER_PORT.
import { formatCall } from "./call-log.js";
import { demoConfig } from "./config.js";
import { startGreeterServer } from "./greeter/server.js";
import { stopOnSignal } from "./shutdown.js";

const config = demoConfig(process.env);
if (config instanceof Error) {
  console.error(config.message);
  process.exit(1);
}
const greeter = await startGreeterServer({
  host: config.greeterHost,
  port: config.greeterPort,
  observer: (record) => console.log(formatCall(record)),
});
console.log(`Greeter (native gRPC, h2c) listening on ${greeter.url}; Ctrl-C stops`);
stopOnSignal(() => greeter.close());
