// The test page's script, bundled with esbuild and run in Chromium. It exposes `runCall`, which
// makes one call the README's way, connect's createClient on this package's transport, and reports
// everything the tests assert on as plain data; and `runInWorker`, which has worker.ts make calls
// from a module worker; and `runBidi`, which makes one bidi call with createWebClient over the WebSocket
// transport.
import { ConnectError, createClient, encodeBinaryHeader, type Interceptor } from "@connectrpc/connect";
import {
  codeName,
  createGrpcWebTransport,
  createWebClient,
  errorDetails,
  explainErrors,
  type GzipOptions,
  gzipCompression,
  type RetryOptions,
  readBinaryMetadata,
  retryInterceptor,
} from "@grpc-web-bridge/client-web";
import { Greeter, HelloReplySchema } from "@grpc-web-bridge/client-web/greeter";
import { createWebSocketTransport } from "@grpc-web-bridge/client-web/websocket";
import type { WorkerReport } from "./worker.js";

export interface CallSpec {
  baseUrl: string;
  method: "sayHello" | "sayHelloStreamReply";
  name: string;
  timeoutMs?: number;
  /** Arrays of numbers become Uint8Array values (binary metadata). */
  metadata?: Record<string, string | number[]>;
  abortAfterMs?: number;
  abortAfterMessages?: number;
  retry?: RetryOptions;
  /** gzip message compression with these options; none when absent. */
  gzip?: GzipOptions;
}

type Entries = [string, string][];

export interface ErrorReport {
  isConnectError: boolean;
  code: number;
  codeName: string;
  rawMessage: string;
  message: string;
  /** The response headers and trailers the error carries. */
  metadata: Entries;
  /** HelloReply details, decoded. */
  details: string[];
  /** The name of the error's cause, if any: TypeError for a fetch that failed. */
  cause?: string;
}

export interface CallOutcome {
  /** Each reply with the ms since the call started at which the page got it. */
  replies: { message: string; atMs: number }[];
  headers: Entries;
  trailers: Entries;
  /** Every -bin key of the response headers and trailers (or of the error's metadata), decoded. */
  binary: Record<string, number[][]>;
  /** How many times the call went to the network (more than one: retried). */
  attempts: number;
  error?: ErrorReport;
  elapsedMs: number;
}

declare global {
  var runCall: (spec: CallSpec) => Promise<CallOutcome>;
  var runInWorker: (baseUrl: string) => Promise<WorkerReport>;
  var runBidi: (baseUrl: string, names: string[]) => Promise<BidiReport>;
}

export interface BidiReport {
  /** What the page sent and got, in order: "sent Ada", "got Hello, Ada!", ... */
  seen: string[];
  trailers: Entries;
}

// One bidi call with this package's small client over the WebSocket transport, ping-pong: each name is sent
// only once the reply to the one before is in.
globalThis.runBidi = async (baseUrl, names) => {
  const greeter = createWebClient(Greeter, createWebSocketTransport({ baseUrl }));
  const report: BidiReport = { seen: [], trailers: [] };
  let replied = () => {};
  async function* requests() {
    for (const name of names) {
      report.seen.push(`sent ${name}`);
      yield { name };
      await new Promise<void>((resolve) => (replied = resolve));
    }
  }
  const options = { timeoutMs: 5000, onTrailer: (t: Headers) => (report.trailers = [...t]) };
  for await (const reply of greeter.sayHelloBidiStream(requests(), options)) {
    report.seen.push(`got ${reply.message}`);
    replied();
  }
  return report;
};

globalThis.runInWorker = (baseUrl) =>
  new Promise((resolve) => {
    const worker = new Worker("/worker.js", { type: "module" });
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      worker.terminate();
      resolve(event.data);
    };
    worker.postMessage({ baseUrl });
  });

globalThis.runCall = async (spec) => {
  const started = performance.now();
  const outcome: CallOutcome = {
    replies: [],
    headers: [],
    trailers: [],
    binary: {},
    attempts: 0,
    elapsedMs: 0,
  };
  const countAttempts: Interceptor = (next) => (req) => {
    outcome.attempts++;
    return next(req);
  };
  const transport = createGrpcWebTransport({
    baseUrl: spec.baseUrl,
    // The opt-in interceptors that explain errors and decode their details, as the README suggests.
    interceptors: [
      errorDetails,
      explainErrors,
      ...(spec.retry ? [retryInterceptor(spec.retry), countAttempts] : [countAttempts]),
    ],
    compression: spec.gzip && gzipCompression(spec.gzip),
  });
  const client = createClient(Greeter, transport);
  const controller = new AbortController();
  if (spec.abortAfterMs !== undefined) setTimeout(() => controller.abort(), spec.abortAfterMs);
  const options = {
    signal: controller.signal,
    timeoutMs: spec.timeoutMs,
    headers: toHeaders(spec.metadata ?? {}),
    onHeader: (headers: Headers) => report(outcome, headers, "headers"),
    onTrailer: (trailers: Headers) => report(outcome, trailers, "trailers"),
  };
  const received = (message: string) => {
    outcome.replies.push({ message, atMs: performance.now() - started });
    if (outcome.replies.length === spec.abortAfterMessages) controller.abort();
  };
  try {
    if (spec.method === "sayHello") {
      received((await client.sayHello({ name: spec.name }, options)).message);
    } else {
      for await (const reply of client.sayHelloStreamReply({ name: spec.name }, options))
        received(reply.message);
    }
  } catch (error) {
    outcome.error = errorReport(error);
    if (error instanceof ConnectError) report(outcome, error.metadata, "trailers");
  }
  outcome.elapsedMs = performance.now() - started;
  return outcome;
};

/** Text values as they are; arrays of numbers are bytes, sent as connect sends binary metadata. */
function toHeaders(spec: Record<string, string | number[]>): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(spec)) {
    headers.set(key, typeof value === "string" ? value : encodeBinaryHeader(new Uint8Array(value)));
  }
  return headers;
}

function report(outcome: CallOutcome, headers: Headers, into: "headers" | "trailers"): void {
  outcome[into] = [...headers];
  for (const [key] of headers) {
    if (key.endsWith("-bin"))
      outcome.binary[key] = readBinaryMetadata(headers, key).map((bytes) => [...bytes]);
  }
}

function errorReport(error: unknown): ErrorReport {
  const isConnectError = error instanceof ConnectError;
  const connectError = ConnectError.from(error);
  return {
    isConnectError,
    code: connectError.code,
    codeName: codeName(connectError.code),
    rawMessage: connectError.rawMessage,
    message: connectError.message,
    metadata: [...connectError.metadata],
    details: connectError.findDetails(HelloReplySchema).map((detail) => detail.message),
    cause: connectError.cause instanceof Error ? connectError.cause.name : undefined,
  };
}
