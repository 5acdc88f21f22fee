// Command-line options of `npm run bench`, with the full and the --quick sizes.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BackendKind, DEFAULT_PROXY_CLI, type SetupId } from "./setups.js";

export interface Sizes {
  warmupMs: number;
  durationMs: number;
  unaryConnections: number;
  fixedRatePerSecond: number;
  streamReplies: number;
  streamReplyBytes: number;
  concurrentStreams: number;
  /** Replies in each of the concurrent streams. */
  concurrentStreamReplies: number;
  largeBytes: number;
  largeConnections: number;
  idleStreams: number;
  idleCycles: number;
  /** WebSocket bidi calls at once, and the ping-pong round trips of each. */
  websocketCalls: number;
  websocketRoundTrips: number;
  /** Requests in the one-way WebSocket client stream (each streamReplyBytes of name). */
  clientStreamRequests: number;
}

export interface Options {
  rounds: number;
  quick: boolean;
  setups: SetupId[];
  workloads: string[] | undefined;
  backend: BackendKind;
  frontNodeFlags: string[];
  proxyCli: string;
  proxyArgs: string[];
  updateReadme: boolean;
  sizes: Sizes;
}

const full: Sizes = {
  warmupMs: 1000,
  durationMs: 5000,
  unaryConnections: 64,
  fixedRatePerSecond: 300,
  streamReplies: 200_000,
  streamReplyBytes: 1024,
  concurrentStreams: 16,
  concurrentStreamReplies: 50_000,
  largeBytes: 1024 * 1024,
  largeConnections: 4,
  idleStreams: 1000,
  idleCycles: 4,
  websocketCalls: 16,
  websocketRoundTrips: 5000,
  clientStreamRequests: 200_000,
};

const quick: Sizes = {
  ...full,
  warmupMs: 500,
  durationMs: 2000,
  streamReplies: 50_000,
  concurrentStreamReplies: 5000,
  idleCycles: 3,
  websocketRoundTrips: 1000,
  clientStreamRequests: 50_000,
};

const usage = `usage: npm run bench -- [--quick] [--rounds N] [--setups A,B,R,C,D] [--workloads unary,rate,...]
       [--backend connect|grpc-js] [--front-node-flag FLAG]... [--proxy-cli PATH] [--proxy-arg ARG]... [--readme]`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      setups: { type: "string", default: "A,B,R,C,D" },
      workloads: { type: "string" },
      backend: { type: "string", default: "connect" },
      "front-node-flag": { type: "string", multiple: true, default: [] },
      "proxy-cli": { type: "string", default: DEFAULT_PROXY_CLI },
      "proxy-arg": { type: "string", multiple: true, default: [] },
      readme: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3));
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a positive integer\n${usage}`);
  const setups = values.setups.split(",").map((id) => id.trim().toUpperCase());
  const unknownSetup = setups.find((id) => !["A", "B", "R", "C", "D"].includes(id));
  if (unknownSetup) throw new Error(`unknown setup "${unknownSetup}"\n${usage}`);
  if (values.backend !== "connect" && values.backend !== "grpc-js") {
    throw new Error(`--backend must be connect or grpc-js\n${usage}`);
  }
  return {
    rounds,
    quick: values.quick,
    setups: setups as SetupId[],
    workloads: values.workloads?.split(",").map((id) => id.trim()),
    backend: values.backend,
    frontNodeFlags: values["front-node-flag"],
    proxyCli: resolve(values["proxy-cli"]),
    proxyArgs: values["proxy-arg"],
    updateReadme: values.readme,
    sizes: values.quick ? quick : full,
  };
}
