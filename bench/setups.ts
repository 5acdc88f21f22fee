// The five setups the bench compares, each started as its own pinned processes.
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "../testing/net.js";
import { OPEN_CALLS_QUERY, type OpenCallsAnswer } from "./greeter/open-calls.js";
import {
  FRONT_CPU,
  LOAD_CPU,
  spawnBenchScript,
  spawnPinned,
  stopProcess,
  waitForPort,
} from "./procs/pinned.js";

export type SetupId = "A" | "B" | "R" | "C" | "D";
export type BackendKind = "connect" | "grpc-js";

export interface SetupSpec {
  id: SetupId;
  title: string;
  /** gRPC-Web over HTTP/1.1, or native gRPC over HTTP/2 (setup D). */
  protocol: "grpc-web" | "grpc";
  /** Whether the front accepts application/grpc-web-text (connect-node does not). */
  text: boolean;
  /** Whether the front takes gRPC calls over WebSocket (the grpc-websockets protocol). */
  websocket: boolean;
}

export interface Running {
  spec: SetupSpec;
  /** Where the load generator sends its calls. */
  origin: string;
  /** The process whose CPU and memory the bench charges to the setup; absent for D. */
  front: BenchProcess | undefined;
  /** The HTTP/2 Greeter behind the front; absent for A. */
  backend: BenchProcess | undefined;
  /** Whichever process runs the Greeter's handlers and so knows how many calls are still open. */
  greeter: BenchProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  backend: BackendKind;
  /** Extra node flags for the front process, e.g. --cpu-prof. */
  frontNodeFlags: string[];
  /** The built proxy CLI that setup C runs, and extra arguments for it (e.g. --log-level warn). */
  proxyCli: string;
  proxyArgs: string[];
  /** Open the front's inspector on loopback, so the bench can force a GC there. */
  inspectFront?: boolean;
}

/** The proxy's CLI as `npm run build` leaves it; `--proxy-cli` points C at another build. */
export const DEFAULT_PROXY_CLI = fileURLToPath(new URL("../proxy/dist/cli.js", import.meta.url));

export const specs: Record<SetupId, SetupSpec> = {
  A: {
    id: "A",
    title: "A direct (connect-node gRPC-Web, no hop)",
    protocol: "grpc-web",
    text: false,
    websocket: false,
  },
  B: { id: "B", title: "B peer (@grpc-web/proxy)", protocol: "grpc-web", text: true, websocket: false },
  R: {
    id: "R",
    title: "R bare pass-through (the floor)",
    protocol: "grpc-web",
    text: true,
    websocket: false,
  },
  C: { id: "C", title: "C ours (grpc-web-bridge)", protocol: "grpc-web", text: true, websocket: true },
  D: {
    id: "D",
    title: "D native (gRPC straight to the backend)",
    protocol: "grpc",
    text: false,
    websocket: false,
  },
};

/** Why a setup cannot run here, or undefined when it can. */
export function unavailable(id: SetupId, proxyCli: string): string | undefined {
  if (id === "C" && !existsSync(proxyCli)) return `${proxyCli} is missing: run \`npm run build\` first`;
  return undefined;
}

export async function start(id: SetupId, options: StartOptions): Promise<Running> {
  const spec = specs[id];
  const inspectPort = options.inspectFront ? await freePort() : undefined;
  const flags = [...options.frontNodeFlags, ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [])];
  if (id === "A") {
    const front = await BenchProcess.start(
      (port) => spawnBenchScript(FRONT_CPU, "A-front", "fronts/direct.ts", [String(port)], flags),
      inspectPort,
    );
    return { spec, origin: front.url, front, backend: undefined, greeter: front, stop: () => front.stop() };
  }
  const backend = await BenchProcess.start((port) =>
    spawnBenchScript(LOAD_CPU, `${id}-backend`, backendScript[options.backend], [String(port)]),
  );
  if (id === "D") {
    return {
      spec,
      origin: backend.url,
      front: undefined,
      backend,
      greeter: backend,
      stop: () => backend.stop(),
    };
  }
  const front = await BenchProcess.start(
    (port) =>
      id === "B" || id === "R"
        ? spawnBenchScript(FRONT_CPU, `${id}-front`, frontScript[id], [String(port), backend.url], flags)
        : spawnPinned(FRONT_CPU, "C-front", [
            ...flags,
            options.proxyCli,
            "--listen",
            `127.0.0.1:${port}`,
            "--upstream",
            backend.url,
            ...options.proxyArgs,
          ]),
    inspectPort,
  ).catch(async (error) => {
    await backend.stop();
    throw error;
  });
  const stop = async () => {
    await front.stop();
    await backend.stop();
  };
  return { spec, origin: front.url, front, backend, greeter: backend, stop };
}

const frontScript = { B: "fronts/peer.ts", R: "fronts/bare.ts" };

const backendScript: Record<BackendKind, string> = {
  connect: "greeter/connect-backend.ts",
  "grpc-js": "greeter/grpc-js-backend.ts",
};

/** A pinned child process listening on a loopback port. */
export class BenchProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    /** The loopback port of its inspector, when it was started with one. */
    readonly inspectPort: number | undefined,
  ) {}

  /** Spawns on a free port and resolves once the process accepts connections there. */
  static async start(spawn: (port: number) => ChildProcess, inspectPort?: number): Promise<BenchProcess> {
    const port = await freePort();
    const started = new BenchProcess(spawn(port), port, inspectPort);
    try {
      await waitForPort(port, started.child);
    } catch (error) {
      await started.stop();
      throw error;
    }
    return started;
  }

  get pid(): number {
    const { pid } = this.child;
    if (pid === undefined) throw new Error("process has no pid");
    return pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many Greeter calls the process is still serving (idle streams not yet cancelled). */
  openCalls(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onMessage = (answer: OpenCallsAnswer) => {
        clearTimeout(timer);
        resolve(answer.openCalls);
      };
      const timer = setTimeout(() => {
        this.child.off("message", onMessage);
        reject(new Error("no answer to the open-calls query"));
      }, 5000);
      this.child.once("message", onMessage);
      this.child.send(OPEN_CALLS_QUERY);
    });
  }

  stop(): Promise<void> {
    return stopProcess(this.child);
  }
}
