// 10,000 calls of mixed kinds through one proxy, a third cancelled by the client and a third ending at their
// deadline: afterwards nothing the calls took is still held (calls, upstream streams, timers, sockets) and the
// memory is back near where it was. The backend runs in a process of its own, so the memory is the proxy's
// (and the load's); the proxy runs here, so that this process's timers and sockets are its.
import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { ProxyOps } from "../src/index.js";
import { startBackendProcess } from "./support/backend-process.js";
import { runMixedLoad } from "./support/mixed-load.js";
import { startProxy } from "./support/proxy.js";
import { inProcessLoad, type ProxyLoad, settled } from "./support/proxy-load.js";

const CALLS = 10_000;
const CONCURRENCY = 50;
/** Paces the load to about 200 calls a second (a minute in all), so that the tests beside it keep their CPU. */
const PAUSE_MS = 200;
const MiB = 1024 * 1024;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

interface Snapshot extends ProxyLoad {
  readonly timers: number;
  readonly sockets: number;
  /** After a full collection, so that garbage not yet collected does not count. */
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

async function snapshot(ops: ProxyOps): Promise<Snapshot> {
  for (let i = 0; i < 3; i++) {
    gc();
    await tick();
  }
  const { rss, heapUsed } = process.memoryUsage();
  return {
    ...(await settled(() => inProcessLoad(ops))),
    ...countResources(),
    rssMiB: Math.round(rss / MiB),
    heapUsedMiB: Math.round(heapUsed / MiB),
  };
}

/** Timers (a timer that does not keep the process alive is not listed) and TCP sockets open now. */
function countResources(): { timers: number; sockets: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    timers: resources.filter((r) => r === "Timeout").length,
    sockets: resources.filter((r) => r === "TCPSocketWrap").length,
  };
}

/** Runs the mix with connections kept alive as a browser keeps them, and closes them after. */
async function load(url: string, calls: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    return await runMixedLoad({ url, calls, concurrency: CONCURRENCY, agent, pauseMs: PAUSE_MS });
  } finally {
    agent.destroy();
  }
}

test(`${CALLS} mixed calls leave no call, stream, timer or socket behind, and memory near its baseline`, {
  timeout: 240_000,
}, async (t) => {
  // grpc-js, whose own deadline handling answers DEADLINE_EXCEEDED when its timer fires before the proxy's.
  const backend = await startBackendProcess("grpc-js");
  const ops = new ProxyOps({ processMetrics: false });
  const proxy = await startProxy(backend.url, { ops });
  t.after(async () => {
    await proxy.close();
    await backend.kill();
  });
  // A first round warms up what stays: the upstream session, compiled code, the metrics' series.
  const warmUp = await load(proxy.url, 300);
  assert.deepEqual(Object.fromEntries(warmUp.errors), {});
  const before = await snapshot(ops);

  const started = performance.now();
  const running = load(proxy.url, CALLS);
  // Meanwhile the same counters show the load (their highest over 2 s): they do count what the calls hold.
  const during = { activeCalls: 0, upstreamStreams: 0, timers: 0, sockets: 0 };
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = { ...(await inProcessLoad(ops)), ...countResources() };
    for (const key of Object.keys(during) as (keyof typeof during)[])
      during[key] = Math.max(during[key], now[key]);
  }
  const result = await running;
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const after = await snapshot(ops);

  t.diagnostic(`calls by kind/ending: ${JSON.stringify(Object.fromEntries(result.done))}`);
  t.diagnostic(`${CALLS} calls in ${seconds} s; before: ${JSON.stringify(before)}`);
  t.diagnostic(`during (highest): ${JSON.stringify(during)}`);
  t.diagnostic(`after: ${JSON.stringify(after)}`);
  assert.ok(
    during.activeCalls > 0 && during.upstreamStreams > 0 && during.sockets > before.sockets,
    "the load was seen",
  );
  assert.deepEqual(Object.fromEntries(result.errors), {}, "every call ended as planned");
  assert.equal(after.activeCalls, 0);
  assert.equal(after.upstreamStreams, 0);
  assert.ok(after.upstreamSessions <= before.upstreamSessions, "retired sessions are gone");
  assert.ok(after.timers <= before.timers, `timers: ${before.timers} → ${after.timers}`);
  assert.ok(after.sockets <= before.sockets, `sockets: ${before.sockets} → ${after.sockets}`);
  assert.ok(after.rssMiB - before.rssMiB < 40, `RSS: ${before.rssMiB} → ${after.rssMiB} MiB`);
  assert.ok(
    after.heapUsedMiB - before.heapUsedMiB < 10,
    `heap: ${before.heapUsedMiB} → ${after.heapUsedMiB} MiB`,
  );
});
