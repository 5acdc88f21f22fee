// The greeter backend on its own, for Docker Compose and for native gRPC clients: GREETER_HOST, GREETER_PORT.
import { configOrExit, startLoggedGreeter } from "./launch.js";
import { stopOnSignal } from "./shutdown.js";

const greeter = await startLoggedGreeter(configOrExit());
stopOnSignal(() => greeter.close());
console.log(`Greeter (native gRPC, h2c) listening on ${greeter.url}; Ctrl-C stops`);
