// Entry point of a test backend in a process of its own (see backend-process.ts): starts the kind named by the
// first argument, on the port of the second when given, and prints its port.
import { type BackendKind, startBackend } from "./backends.js";

const port = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const backend = await startBackend(process.argv[2] as BackendKind, port);
console.log(backend.port);
process.once("SIGTERM", () => void backend.close().then(() => process.exit(0)));
