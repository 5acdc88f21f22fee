// Three real HTTP/2 gRPC backends that behave alike (see greeter-plan.ts), so that every proxy
// integration test can run against each of them.
import { startConnectNodeBackend } from "./connect-node-backend.js";
import { startGrpcJsBackend } from "./grpc-js-backend.js";
import { startGrpcioBackend } from "./grpcio-backend.js";
import type { Listener } from "./h2c-server.js";
import { type Observation, ObservationLog } from "./observations.js";

export type { Observation } from "./observations.js";

export type BackendKind = "connect-node" | "grpc-js" | "grpcio";
export const backendKinds: readonly BackendKind[] = ["connect-node", "grpc-js", "grpcio"];

export interface Backend {
  readonly kind: BackendKind;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Every call's "started", then its "finished" or "cancelled", in the order the backend saw them. */
  readonly observations: Observation[];
  /** Paths of the requests that reached it, refused ones included (connect-node only: see ObservationLog). */
  readonly requests: readonly string[];
  /** The first observation, past or future, that matches; rejects after `timeoutMs` (default 5 s). */
  waitFor(predicate: (o: Observation) => boolean, timeoutMs?: number): Promise<Observation>;
  /** Stops the backend and everything it started: connections, child process. */
  close(): Promise<void>;
}

const starters: Record<BackendKind, (log: ObservationLog, port?: number) => Promise<Listener>> = {
  "connect-node": startConnectNodeBackend,
  "grpc-js": startGrpcJsBackend,
  grpcio: startGrpcioBackend,
};

/** Starts a backend on 127.0.0.1: on `port` when given (to restart one in place), else on a free port. */
export async function startBackend(kind: BackendKind, port?: number): Promise<Backend> {
  const log = new ObservationLog();
  const listener = await starters[kind](log, port);
  return {
    kind,
    url: `http://127.0.0.1:${listener.port}`,
    port: listener.port,
    observations: log.observations,
    requests: log.requests,
    waitFor: (predicate, timeoutMs) => log.waitFor(predicate, timeoutMs),
    close: () => listener.close(),
  };
}
