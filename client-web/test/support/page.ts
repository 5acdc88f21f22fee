// The test page's script, bundled with esbuild and run in Chromium. It exposes `runCall`, which
// makes one call through the public API and reports everything the tests assert on as plain data,
// and `runInWorker`, which has worker.ts make calls from a module worker.
import {
  createGreeterClient,
  GrpcWebError,
  HelloReplySchema,
  type Interceptor,
  type Metadata,
  type RetryOptions,
  readBinaryMetadata,
  retryInterceptor,
} from "@grpc-web-bridge/client-web";
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
}

type Entries = [string, string][];

export interface ErrorReport {
  isGrpcWebError: boolean;
  code: number;
  codeName: string;
  rawMessage: string;
  message: string;
  headers: Entries;
  trailers: Entries;
  /** HelloReply details, decoded. */
  details: string[];
}

export interface CallOutcome {
  /** Each reply with the ms since the call started at which the page got it. */
  replies: { message: string; atMs: number }[];
  headers: Entries;
  trailers: Entries;
  /** Every -bin key of the response headers and trailers (or of the error's), decoded. */
  binary: Record<string, number[][]>;
  /** How many times the call went to the network (more than one: retried). */
  attempts: number;
  error?: ErrorReport;
  elapsedMs: number;
}

declare global {
  var runCall: (spec: CallSpec) => Promise<CallOutcome>;
  var runInWorker: (baseUrl: string) => Promise<WorkerReport>;
}

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
  const client = createGreeterClient({
    baseUrl: spec.baseUrl,
    interceptors: spec.retry ? [retryInterceptor(spec.retry), countAttempts] : [countAttempts],
  });
  const controller = new AbortController();
  if (spec.abortAfterMs !== undefined) setTimeout(() => controller.abort(), spec.abortAfterMs);
  const options = {
    signal: controller.signal,
    timeoutMs: spec.timeoutMs,
    metadata: toMetadata(spec.metadata ?? {}),
    onHeaders: (headers: Headers) => report(outcome, headers, "headers"),
    onTrailers: (trailers: Headers) => report(outcome, trailers, "trailers"),
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
    if (error instanceof GrpcWebError) {
      report(outcome, error.headers, "headers");
      report(outcome, error.trailers, "trailers");
    }
  }
  outcome.elapsedMs = performance.now() - started;
  return outcome;
};

function toMetadata(spec: Record<string, string | number[]>): Metadata {
  return Object.fromEntries(
    Object.entries(spec).map(([key, value]) => [
      key,
      typeof value === "string" ? value : new Uint8Array(value),
    ]),
  );
}

function report(outcome: CallOutcome, headers: Headers, into: "headers" | "trailers"): void {
  outcome[into] = [...headers];
  for (const [key] of headers) {
    if (key.endsWith("-bin"))
      outcome.binary[key] = readBinaryMetadata(headers, key).map((bytes) => [...bytes]);
  }
}

function errorReport(error: unknown): ErrorReport {
  if (!(error instanceof GrpcWebError)) {
    return {
      isGrpcWebError: false,
      code: -1,
      codeName: "",
      rawMessage: "",
      message: String(error),
      headers: [],
      trailers: [],
      details: [],
    };
  }
  return {
    isGrpcWebError: true,
    code: error.code,
    codeName: error.codeName,
    rawMessage: error.rawMessage,
    message: error.message,
    headers: [...error.headers],
    trailers: [...error.trailers],
    details: error.findDetails(HelloReplySchema).map((detail) => detail.message),
  };
}
