// Entry point of a test backend in a process of its own (see backend-process.ts): starts the kind named by the
// first argument and prints its port.
import { type BackendKind, startBackend } from "./backends.js";

const backend = await startBackend(process.argv[2] as BackendKind);
console.log(backend.port);
process.once("SIGTERM", () => void backend.close().then(() => process.exit(0)));
