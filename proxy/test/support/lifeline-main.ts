// A stand-in for a test file, for support-lifeline.test.ts: starts a backend process (then stops it with
// SIGSTOP, as the hang tests do) and a grpcio backend, the ways tests start them, prints their pids as one JSON
// line, and waits to be killed. (The CLI's children are started the same way, with the same dieWithTest.)
import { startBackendProcess } from "./backend-process.js";
import { startBackend } from "./backends.js";

const stopped = await startBackendProcess("connect-node");
process.kill(stopped.pid, "SIGSTOP");
const grpcio = await startBackend("grpcio");
const running = await startBackendProcess("grpc-js");
console.log(JSON.stringify({ stopped: stopped.pid, running: running.pid, grpcioPort: grpcio.port }));
setInterval(() => {}, 60_000);
