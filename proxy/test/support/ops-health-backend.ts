// A backend with the standard grpc.health.v1 service, on @grpc/grpc-js and @grpc/proto-loader
// (protobufjs), so the proxy's hand-coded health messages meet an independent implementation.
import { fileURLToPath } from "node:url";
import { loadPackageDefinition, Server, type ServiceDefinition, status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { listenOnLoopback } from "./grpc-js-listen.js";

export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

export interface HealthBackend {
  readonly url: string;
  /** What Check answers for each service name ("" is the whole server); a name not here is NOT_FOUND. */
  readonly statuses: Map<string, ServingStatus>;
  close(): Promise<void>;
}

const protoPath = fileURLToPath(new URL("health.proto", import.meta.url));

export async function startHealthBackend(statuses: Record<string, ServingStatus>): Promise<HealthBackend> {
  const definition = loadPackageDefinition(loadSync(protoPath, { enums: String, defaults: true }));
  const health = (definition.grpc as never as { health: { v1: { Health: { service: ServiceDefinition } } } })
    .health.v1.Health;
  const table = new Map(Object.entries(statuses));
  const server = new Server();
  server.addService(health.service, {
    Check(
      call: { request: { service: string } },
      callback: (error: { code: number; details: string } | null, reply?: { status: ServingStatus }) => void,
    ) {
      const found = table.get(call.request.service);
      if (found === undefined) callback({ code: status.NOT_FOUND, details: "unknown service" });
      else callback(null, { status: found });
    },
  });
  const { port, close } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, statuses: table, close };
}
