import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { HostPort } from "../settings/values.js";
import { hostPort } from "../upstream/address.js";

/** A port that cannot be listened on, said against the flag that names it. */
export class PortError extends Error {}

const PORT_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: "is already in use",
  EACCES: "needs more privileges than this process has",
  EADDRNOTAVAIL: "is not an address of this machine",
};

/**
 * Listens, or throws a PortError for a port that cannot be had (in use, privileged, not this machine's). Returns
 * the address listened on, with the port the system chose for port 0.
 */
export async function listenOn(
  server: FastifyInstance,
  { host, port }: HostPort,
  flag: string,
): Promise<string> {
  try {
    await server.listen({ host, port });
  } catch (error) {
    const why = PORT_ERRORS[(error as NodeJS.ErrnoException).code ?? ""];
    if (why === undefined) throw error;
    throw new PortError(`${flag}: ${hostPort(host, port)} ${why}`);
  }
  return hostPort(host, (server.server.address() as AddressInfo).port);
}
