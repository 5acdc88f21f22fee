// /metrics under attack: browsers choose method paths (up to 64 KiB), so a path must not become a series
// unless a backend answered it. 100,000 hostile calls over a few HTTP/2 connections (from worker threads, so
// that they run beside the proxy), then one scrape.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import type { CallOutcome } from "../src/call/outcome.js";
import { Code, GrpcError } from "../src/index.js";
import { MAX_LABEL_CHARS, NOT_FORWARDED, OTHER, ProxyMetrics } from "../src/ops/metrics.js";
import { type Backend, startBackend } from "./support/backends.js";
import { createTestCa, type TestCa } from "./support/certificates.js";
import { type HostileCalls, isText, type Kind, kindOf } from "./support/hostile-calls.js";
import { type ObservedProxy, sample, startObservedProxy } from "./support/ops-admin.js";

const CALLS = Number(process.env.CALLS ?? 100_000);
/** Threads making the calls, two connections each. */
const WORKERS = 2;
const ONE_MB = 1024 * 1024;

/** The calls `plan` describes, made in a worker thread; what `makeHostileCalls` resolves to. */
function inWorker(plan: HostileCalls): Promise<Map<string, number>> {
  // A worker does not share the test process's TypeScript loader: it registers tsx before loading the calls.
  const entry = new URL("./support/hostile-calls.ts", import.meta.url).href;
  const worker = new Worker(
    `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true, workerData: { hostileCalls: plan } },
  );
  return new Promise((resolve, reject) => {
    worker.once("message", (message: [string, number][] | { error: string }) => {
      void worker.terminate();
      if (Array.isArray(message)) resolve(new Map(message));
      else reject(new Error(message.error));
    });
    worker.once("error", reject);
  });
}

describe("/metrics size under hostile calls", () => {
  let ca: TestCa;
  let caFile: string;
  let backend: Backend;
  let proxy: ObservedProxy;
  before(async () => {
    ca = createTestCa();
    caFile = ca.certFile;
    backend = await startBackend("connect-node");
    proxy = await startObservedProxy(undefined, {
      tls: ca.issue("proxy", "proxy", ["IP:127.0.0.1"]),
      upstreams: { greeter: { addresses: [backend.url] } },
      routes: [{ match: "hostile.*", upstream: "greeter" }],
      interceptors: [
        (call) => (call.metadata.get("x-refuse") ? new GrpcError(Code.UNAUTHENTICATED, "no") : undefined),
      ],
    });
  });
  after(async () => {
    await proxy?.close();
    await backend?.close();
    ca?.remove();
  });

  test(`${CALLS} calls to made-up methods leave /metrics under 1 MB`, async () => {
    const before = await metricsText(proxy.adminUrl);
    const expectedCode: Record<Kind, number> = {
      forwarded: Code.UNIMPLEMENTED,
      refused: Code.UNAUTHENTICATED,
      unrouted: Code.UNIMPLEMENTED,
    };
    const expected = new Map<string, number>();
    for (let i = 0; i < CALLS; i++) {
      const key = `${kindOf(i)} ${isText(i) ? "text" : "binary"} ${expectedCode[kindOf(i)]}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const ca = readFileSync(caFile, "utf8");
    const parts = await Promise.all(
      Array.from({ length: WORKERS }, (_, first) =>
        inWorker({ url: proxy.url, ca, first, step: WORKERS, calls: CALLS, sessions: 2, inFlight: 100 }),
      ),
    );
    const seen = new Map<string, number>();
    for (const part of parts) for (const [key, n] of part) seen.set(key, (seen.get(key) ?? 0) + n);
    assert.deepEqual(seen, expected);

    const after = await metricsText(proxy.adminUrl);
    assert.ok(after.length < ONE_MB, `/metrics is ${after.length} bytes`);
    assert.ok(
      after.length - before.length < 64 * 1024,
      `/metrics grew by ${after.length - before.length} bytes`,
    );
    const finished = (labels: Record<string, string>) =>
      count(after, sample("grpc_web_bridge_calls_finished_total", labels));
    const shared = (value: string, code: string) =>
      ["binary", "text"].reduce(
        (sum, mode) => sum + finished({ service: value, method: value, mode, transport: "http", code }),
        0,
      );
    // Forwarded calls the backend did not know share one series; refused ones another; unrouted ones have none.
    const sum = (kind: Kind) =>
      [...expected].filter(([key]) => key.startsWith(`${kind} `)).reduce((total, [, n]) => total + n, 0);
    assert.equal(shared(OTHER, "UNIMPLEMENTED"), sum("forwarded"));
    assert.equal(shared(NOT_FORWARDED, "UNAUTHENTICATED"), sum("refused"));
    assert.equal(
      count(after, sample("grpc_web_bridge_rejected_requests_total", { reason: "route" })),
      sum("unrouted"),
    );
    assert.doesNotMatch(after, /hostile\.x|elsewhere\.x/, "no path became a label value");
  });
});

describe("series caps", () => {
  const outcome = (code: number, forwarded = true): CallOutcome => ({
    code,
    cause: { kind: "backend" },
    forwarded,
    bytesIn: 0,
    bytesOut: 0,
    messagesOut: 0,
    respondedAt: undefined,
  });
  const metrics = () =>
    new ProxyMetrics(
      { activeCalls: () => 0, bufferedRequestBytes: () => 0, upstreams: () => [] },
      { processMetrics: false },
    );

  test("a method its backend answered gets a series of its own, within the label cap", () => {
    const m = metrics();
    const long = `/a.S/${"M".repeat(MAX_LABEL_CHARS + 1)}`;
    const fits = `/a.S/${"M".repeat(MAX_LABEL_CHARS)}`;
    assert.equal(m.seriesOf(long, "binary", outcome(Code.OK)).labels.method, OTHER);
    assert.equal(m.seriesOf(fits, "binary", outcome(Code.OK)).labels.method, "M".repeat(MAX_LABEL_CHARS));
    assert.equal(m.seriesOf("/a.S/Unknown", "binary", outcome(Code.UNIMPLEMENTED)).labels.method, OTHER);
    assert.equal(
      m.seriesOf("/a.S/Refused", "text", outcome(Code.UNAUTHENTICATED, false)).labels.method,
      NOT_FORWARDED,
    );
    // Once it has one, the method keeps it whatever its later calls end with.
    assert.equal(m.seriesOf(fits, "binary", outcome(Code.UNIMPLEMENTED)).labels.service, "a.S");
  });

  test("past 500 methods, new ones share one series", () => {
    const m = metrics();
    for (let i = 0; i < 500; i++)
      assert.equal(m.seriesOf(`/a.S/M${i}`, "binary", outcome(Code.OK)).labels.method, `M${i}`);
    assert.equal(m.seriesOf("/a.S/M500", "binary", outcome(Code.OK)).labels.method, OTHER);
  });
});

async function metricsText(adminUrl: string): Promise<string> {
  const response = await fetch(`${adminUrl}/metrics`);
  return response.text();
}

/** The value of one sample in an exposition, 0 when absent. */
function count(text: string, key: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
}
