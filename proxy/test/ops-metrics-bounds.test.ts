// /metrics under attack: browsers choose method paths (up to 64 KiB), so a path must not become a series
// unless a backend answered it. 100,000 hostile calls over a few HTTP/2 connections, then one scrape.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import type { CallOutcome } from "../src/call/outcome.js";
import { Code, GrpcError } from "../src/index.js";
import { MAX_LABEL_CHARS, NOT_FORWARDED, OTHER, ProxyMetrics } from "../src/ops/metrics.js";
import { type Backend, startBackend } from "./support/backends.js";
import { createTestCa, type TestCa } from "./support/certificates.js";
import { h2WebCall } from "./support/h2-web-call.js";
import { type ObservedProxy, sample, startObservedProxy } from "./support/ops-admin.js";

const CALLS = Number(process.env.CALLS ?? 100_000);
const SESSIONS = 4;
/** Each session's calls in flight: the proxy's default per-connection limit. */
const IN_FLIGHT = 100;
const ONE_MB = 1024 * 1024;
/** Past the label cap, and long enough that a series of each would be megabytes. */
const NAME_CHARS = 300;

/** A distinct name of NAME_CHARS characters for call `i`, valid in a method path. */
function name(i: number): string {
  return `x${i.toString(36).padStart(NAME_CHARS - 1, "q")}`;
}

/** Every tenth call reaches the backend (the costly kind); the others are refused by an interceptor or unrouted. */
type Kind = "forwarded" | "refused" | "unrouted";
function kindOf(i: number): Kind {
  if (i % 10 === 0) return "forwarded";
  return i % 2 === 0 ? "refused" : "unrouted";
}

describe("/metrics size under hostile calls", () => {
  let ca: TestCa;
  let backend: Backend;
  let proxy: ObservedProxy;
  before(async () => {
    ca = createTestCa();
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
    const paths: Record<Kind, (i: number) => string> = {
      forwarded: (i) => `/hostile.${name(i)}/${name(i)}`,
      refused: (i) => `/hostile.${name(i)}/${name(i)}`,
      unrouted: (i) => `/elsewhere.${name(i)}/${name(i)}`,
    };
    const expected = new Map<string, number>();
    const seen = new Map<string, number>();
    const add = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
    const expectedCode: Record<Kind, number> = {
      forwarded: Code.UNIMPLEMENTED,
      refused: Code.UNAUTHENTICATED,
      unrouted: Code.UNIMPLEMENTED,
    };
    let next = 0;
    const drive = async (session: http2.ClientHttp2Session) => {
      while (next < CALLS) {
        const i = next++;
        const kind = kindOf(i);
        const text = i % 3 === 0;
        add(expected, `${kind} ${text ? "text" : "binary"} ${expectedCode[kind]}`);
        const result = await h2WebCall(session, paths[kind](i), {
          ...(!text && { message: new Uint8Array() }),
          headers: {
            ...(kind === "refused" && { "x-refuse": "1" }),
            ...(text && { "content-type": "application/grpc-web-text" }),
          },
        });
        add(seen, `${kind} ${text ? "text" : "binary"} ${result.grpcStatus}`);
      }
    };
    const sessions = Array.from({ length: SESSIONS }, () =>
      http2.connect(proxy.url.replace("http:", "https:"), { ca: readFileSync(ca.certFile) }),
    );
    try {
      await Promise.all(
        sessions.flatMap((session) => Array.from({ length: IN_FLIGHT }, () => drive(session))),
      );
    } finally {
      for (const session of sessions) session.close();
    }
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
        (sum, mode) => sum + finished({ service: value, method: value, mode, code }),
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
    assert.equal(m.seriesOf(long, false, outcome(Code.OK)).labels.method, OTHER);
    assert.equal(m.seriesOf(fits, false, outcome(Code.OK)).labels.method, "M".repeat(MAX_LABEL_CHARS));
    assert.equal(m.seriesOf("/a.S/Unknown", false, outcome(Code.UNIMPLEMENTED)).labels.method, OTHER);
    assert.equal(
      m.seriesOf("/a.S/Refused", true, outcome(Code.UNAUTHENTICATED, false)).labels.method,
      NOT_FORWARDED,
    );
    // Once it has one, the method keeps it whatever its later calls end with.
    assert.equal(m.seriesOf(fits, false, outcome(Code.UNIMPLEMENTED)).labels.service, "a.S");
  });

  test("past 500 methods, new ones share one series", () => {
    const m = metrics();
    for (let i = 0; i < 500; i++)
      assert.equal(m.seriesOf(`/a.S/M${i}`, false, outcome(Code.OK)).labels.method, `M${i}`);
    assert.equal(m.seriesOf("/a.S/M500", false, outcome(Code.OK)).labels.method, OTHER);
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
