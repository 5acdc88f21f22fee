#!/usr/bin/env node
import { buildServer } from "./server/build.js";
import { parseCli } from "./server/config.js";

const parsed = parseCli(process.argv.slice(2), process.env);
if (parsed.kind === "help") {
  console.log(parsed.text);
  process.exit(0);
}
if (parsed.kind === "error") {
  console.error(`grpc-web-bridge: ${parsed.message} (see --help)`);
  process.exit(2);
}

const { config } = parsed;
const app = await buildServer({ ...config.proxy, logger: { level: config.logLevel } });
await app.listen({ host: config.host, port: config.port });
app.log.info(`proxying gRPC-Web on ${config.host}:${config.port} to ${config.proxy.upstream}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    app.close().then(() => process.exit(0));
  });
}
