// The proxy in a process of its own, logging to its stdout in the format argv[2] names through the CLI's batched
// destination, as the CLI will; it writes its port to stderr once it listens and exits on SIGTERM.
import { bufferedStdout } from "../../src/cli/log-destination.js";
import { type LogFormat, loggerOptions } from "../../src/ops/log-format.js";
import { buildServer } from "../../src/plugin/build.js";

const [format, upstream] = process.argv.slice(2) as [LogFormat, string];
const app = await buildServer({ upstream, logger: await loggerOptions(format, "info", bufferedStdout()) });
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
process.stderr.write(`${typeof address === "object" && address ? address.port : 0}\n`);
process.once("SIGTERM", () => process.exit(0));
