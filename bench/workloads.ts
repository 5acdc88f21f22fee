// The workloads of the issue, each measured on one running setup and reduced to named numbers.
import { paths, streamName, streamReply, unaryReply } from "./greeter/contract.js";
import { type Caller, createCaller } from "./load/callers.js";
import { type IdleCycle, type IdlePlan, idleCycle, type Memory, openIdleStreams } from "./load/idle.js";
import { runStreams, type StreamResult } from "./load/streams.js";
import { closedLoop, fixedRate, type UnaryPlan, type UnaryResult } from "./load/unary.js";
import {
  clientStreamPlan,
  openIdleWebSocketCalls,
  runWebSocketCalls,
  serverStreamPlan,
  type WebSocketPlan,
} from "./load/websocket.js";
import { meterWindow } from "./load/window.js";
import type { Sizes } from "./options.js";
import { collectGarbage } from "./procs/inspector.js";
import { CpuMeter, type CpuSpent, rssBytes } from "./procs/usage.js";
import type { BenchProcess, Running, SetupSpec } from "./setups.js";
import { percentile } from "./stats.js";
import { helloReplyPayload, helloRequestFrame } from "./wire/frames.js";

/** One measurement: metric key → value, plus failures (calls or streams that did not verify). */
export interface Measurement {
  values: Record<string, number>;
  failed: number;
  firstFailure: string | undefined;
}

export interface Metric {
  key: string;
  label: string;
}

export interface Workload {
  id: string;
  title: (sizes: Sizes) => string;
  applies: (spec: SetupSpec) => boolean;
  metrics: Metric[];
  /** Run on freshly started processes, so earlier workloads' heap growth cannot hide this one's memory. */
  freshProcesses?: boolean;
  run: (setup: Running, sizes: Sizes) => Promise<Measurement>;
}

const MiB = 1024 * 1024;
const anySetup = () => true;

const busy: Metric[] = [
  { key: "frontBusyPct", label: "CPU 0 busy % (front)" },
  { key: "cpu1BusyPct", label: "CPU 1 busy % (load + backend)" },
];

const perCall: Metric[] = [
  { key: "perSecond", label: "calls/s" },
  { key: "p50Ms", label: "p50 ms" },
  { key: "p99Ms", label: "p99 ms" },
  { key: "frontCpuUs", label: "front CPU µs/call" },
  { key: "frontKernelPct", label: "of which in the kernel %" },
  { key: "backendCpuUs", label: "backend CPU µs/call" },
  ...busy,
];

const perMessage: Metric[] = [
  { key: "perSecond", label: "msgs/s" },
  { key: "mibPerSecond", label: "MiB/s" },
  { key: "frontCpuUs", label: "front CPU µs/msg" },
  { key: "frontKernelPct", label: "of which in the kernel %" },
  { key: "backendCpuUs", label: "backend CPU µs/msg" },
  ...busy,
];

interface UnaryShape {
  name: string;
  connections: number;
}

function unaryWorkload(
  id: string,
  title: (s: Sizes) => string,
  shape: (s: Sizes) => UnaryShape,
  load: (caller: Caller, plan: UnaryPlan, s: Sizes) => Promise<UnaryResult>,
): Workload {
  return {
    id,
    title,
    applies: anySetup,
    metrics: perCall,
    run: (setup, s) => unary(setup, s, shape(s), (caller, plan) => load(caller, plan, s)),
  };
}

interface StreamShape {
  streams: number;
  replies: number;
  text: boolean;
}

function streamWorkload(
  id: string,
  title: (s: Sizes) => string,
  shape: (s: Sizes) => StreamShape,
  applies: (spec: SetupSpec) => boolean = anySetup,
): Workload {
  return { id, title, applies, metrics: perMessage, run: (setup, s) => stream(setup, s, shape(s)) };
}

const count = (n: number) => n.toLocaleString("en");
const small = (s: Sizes): UnaryShape => ({ name: "bench", connections: s.unaryConnections });

export const workloads: Workload[] = [
  unaryWorkload(
    "unary",
    (s) => `Unary, small, ${s.unaryConnections} keep-alive connections`,
    small,
    (caller, plan, s) => closedLoop(caller, plan, s.unaryConnections),
  ),
  unaryWorkload(
    "rate",
    (s) => `Unary at a fixed ${s.fixedRatePerSecond} calls/s`,
    small,
    (caller, plan, s) => fixedRate(caller, plan, s.fixedRatePerSecond),
  ),
  unaryWorkload(
    "large",
    (s) => `Unary, ${s.largeBytes / MiB} MiB request and reply, ${s.largeConnections} connections`,
    (s) => ({ name: "x".repeat(s.largeBytes), connections: s.largeConnections }),
    (caller, plan, s) => closedLoop(caller, plan, s.largeConnections),
  ),
  streamWorkload(
    "stream",
    (s) => `1 server stream of ${count(s.streamReplies)} × ${s.streamReplyBytes} B replies`,
    (s) => ({ streams: 1, replies: s.streamReplies, text: false }),
  ),
  streamWorkload(
    "streams",
    (s) =>
      `${s.concurrentStreams} concurrent streams of ${count(s.concurrentStreamReplies)} × ${s.streamReplyBytes} B`,
    (s) => ({ streams: s.concurrentStreams, replies: s.concurrentStreamReplies, text: false }),
  ),
  streamWorkload(
    "text",
    (s) => `1 grpc-web-text stream of ${count(s.streamReplies)} × ${s.streamReplyBytes} B`,
    (s) => ({ streams: 1, replies: s.streamReplies, text: true }),
    (spec) => spec.text,
  ),
  {
    id: "ws-stream",
    title: (s) =>
      `1 server stream of ${count(s.streamReplies)} × ${s.streamReplyBytes} B over WebSocket (compare: stream)`,
    applies: (spec) => spec.websocket,
    metrics: perMessage,
    run: (setup, s) => {
      const shape = { replies: s.streamReplies, replyBytes: s.streamReplyBytes };
      return overWebSocket(setup, s.streamReplyBytes, "replies", serverStreamPlan(shape, 1));
    },
  },
  {
    id: "ws-bidi",
    title: (s) =>
      `${s.websocketCalls} WebSocket bidi calls, ping-pong: ${count(s.websocketRoundTrips)} round trips each, one small message each way`,
    applies: (spec) => spec.websocket,
    metrics: [
      { key: "perSecond", label: "round trips/s" },
      { key: "frontCpuUs", label: "front CPU µs/round trip" },
      { key: "backendCpuUs", label: "backend CPU µs/round trip" },
      ...busy,
    ],
    run: (setup, s) =>
      overWebSocket(setup, Number.NaN, "replies", {
        path: paths.bidiStream,
        requestFrame: helloRequestFrame("bench"),
        expect: { payload: helloReplyPayload(unaryReply("bench")), messages: s.websocketRoundTrips },
        concurrency: s.websocketCalls,
        requests: s.websocketRoundTrips,
        sending: "ping-pong",
      }),
  },
  {
    id: "ws-client-stream",
    title: (s) =>
      `1 client stream of ${count(s.clientStreamRequests)} × ${s.streamReplyBytes} B over WebSocket, one reply at its end (compare: ws-stream)`,
    applies: (spec) => spec.websocket,
    metrics: perMessage,
    run: (setup, s) =>
      overWebSocket(
        setup,
        s.streamReplyBytes,
        "requests",
        clientStreamPlan(s.clientStreamRequests, s.streamReplyBytes, 1),
      ),
  },
  {
    id: "idle",
    title: (s) => `${count(s.idleStreams)} idle open server streams, ${s.idleCycles} open/close cycles`,
    applies: (spec) => spec.id !== "D",
    freshProcesses: true,
    metrics: idleMetrics("stream"),
    run: (setup, s) => idle(setup, s, openIdleStreams(setup.origin)),
  },
  {
    id: "ws-idle",
    title: (s) =>
      `${count(s.idleStreams)} idle open WebSocket bidi calls (one request and its reply, still sending), ${s.idleCycles} open/close cycles`,
    applies: (spec) => spec.websocket,
    freshProcesses: true,
    metrics: idleMetrics("call"),
    run: (setup, s) => idle(setup, s, openIdleWebSocketCalls(setup.origin)),
  },
];

function idleMetrics(unit: "stream" | "call"): Metric[] {
  return [
    { key: "startRssMiB", label: "front RSS MiB at start, before any call" },
    { key: "rssKiBPerStream", label: `front RSS KiB/${unit}` },
    { key: "heapKiBPerStream", label: `of which JS heap KiB/${unit}` },
    { key: "leftOpen", label: "upstream calls left open" },
    { key: "rssGrowthKiBPerCycle", label: "front RSS growth KiB/cycle" },
    { key: "heapGrowthKiBPerCycle", label: "front JS heap growth KiB/cycle" },
  ];
}

/** Meters the load generator (this process) and the setup's front and backend, where present. */
function meterFor(setup: Running): CpuMeter {
  const pids = new Map([["load", process.pid]]);
  if (setup.front) pids.set("front", setup.front.pid);
  if (setup.backend) pids.set("backend", setup.backend.pid);
  return new CpuMeter(pids);
}

/**
 * CPU µs per unit of work for each role (a role the setup lacks gets NaN), how busy each CPU was (a front
 * well below 100% is not what limits the throughput; CPU 1, load generator + backend, is then), and the
 * share of the front's CPU spent in the kernel, which is the part of its cost no change to its code reaches.
 */
function cpuUse(cpu: Map<string, CpuSpent>, units: number, elapsedMs: number) {
  const used = (role: string) => cpu.get(role)?.us ?? Number.NaN;
  const busyPct = (us: number) => (us / (elapsedMs * 1000)) * 100;
  return {
    frontCpuUs: used("front") / units,
    frontKernelPct: (cpu.get("front")?.kernelShare ?? Number.NaN) * 100,
    backendCpuUs: used("backend") / units,
    loadCpuUs: used("load") / units,
    frontBusyPct: busyPct(used("front")),
    cpu1BusyPct: busyPct(used("load") + (cpu.get("backend")?.us ?? 0)),
  };
}

async function withCaller<T>(
  setup: Running,
  connections: number,
  text: boolean,
  use: (caller: Caller) => Promise<T>,
) {
  const caller = createCaller({ origin: setup.origin, protocol: setup.spec.protocol, connections, text });
  try {
    return await use(caller);
  } finally {
    await caller.close();
  }
}

async function unary(
  setup: Running,
  s: Sizes,
  { name, connections }: UnaryShape,
  load: (caller: Caller, plan: UnaryPlan) => Promise<UnaryResult>,
): Promise<Measurement> {
  const result = await withCaller(setup, connections, false, (caller) =>
    load(caller, {
      path: paths.unary,
      requestFrame: helloRequestFrame(name),
      expect: { payload: helloReplyPayload(unaryReply(name)), messages: 1 },
      window: meterWindow(meterFor(setup), s.warmupMs, s.durationMs),
    }),
  );
  const sorted = result.latenciesMs.sort((a, b) => a - b);
  return {
    values: {
      perSecond: (result.ok * 1000) / result.windowMs,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      ...cpuUse(result.cpu, result.ok, result.windowMs),
    },
    failed: result.failed,
    firstFailure: result.firstFailure,
  };
}

async function stream(
  setup: Running,
  s: Sizes,
  { streams, replies, text }: StreamShape,
): Promise<Measurement> {
  const shape = { replies, replyBytes: s.streamReplyBytes };
  const result: StreamResult = await withCaller(setup, streams, text, (caller) =>
    runStreams(
      caller,
      {
        path: paths.serverStream,
        requestFrame: helloRequestFrame(streamName(shape)),
        expect: { payload: helloReplyPayload(streamReply(shape.replyBytes)), messages: replies },
        concurrency: streams,
      },
      meterFor(setup),
    ),
  );
  const seconds = result.elapsedMs / 1000;
  return {
    values: {
      perSecond: result.messages / seconds,
      mibPerSecond: (result.messages * s.streamReplyBytes) / MiB / seconds,
      ...cpuUse(result.cpu, result.messages, result.elapsedMs),
    },
    failed: result.failed,
    firstFailure: result.firstFailure,
  };
}

/**
 * Messages per second and per CPU µs of calls over WebSocket, counting the replies or the requests of the
 * calls that verified; `messageBytes` NaN when MiB/s means nothing.
 */
async function overWebSocket(
  setup: Running,
  messageBytes: number,
  counted: "replies" | "requests",
  plan: WebSocketPlan,
): Promise<Measurement> {
  const result = await runWebSocketCalls(setup.origin, plan, meterFor(setup));
  const seconds = result.elapsedMs / 1000;
  const messages =
    counted === "replies" ? result.messages : (plan.concurrency - result.failed) * plan.requests;
  return {
    values: {
      perSecond: messages / seconds,
      mibPerSecond: (messages * messageBytes) / MiB / seconds,
      ...cpuUse(result.cpu, messages, result.elapsedMs),
    },
    failed: result.failed,
    firstFailure: result.firstFailure,
  };
}

const rss = (memory: Memory) => memory.rss;
const heap = (memory: Memory) => memory.heap ?? Number.NaN;

/**
 * How much a reading after closing grew per cycle, in KiB, from the second measured cycle to the last:
 * the heap still settles during the first (code, pools), while a leak keeps growing every cycle.
 */
function growthPerCycle(cycles: IdleCycle[], reading: (memory: Memory) => number): number {
  const second = cycles[1];
  const last = cycles.at(-1);
  if (!second || !last || cycles.length < 3) return Number.NaN;
  return (reading(last.afterClose) - reading(second.afterClose)) / 1024 / (cycles.length - 2);
}

async function frontMemory(front: BenchProcess): Promise<Memory> {
  if (front.inspectPort === undefined) throw new Error("the idle workload needs the front's inspector");
  const heap = await collectGarbage(front.inspectPort);
  return { rss: rssBytes(front.pid), heap };
}

async function idle(setup: Running, s: Sizes, open: IdlePlan["open"]): Promise<Measurement> {
  const { front } = setup;
  if (!front) throw new Error("the idle workload needs a front");
  const cycle = (streams: number) =>
    idleCycle({
      open,
      streams,
      frontMemory: () => frontMemory(front),
      greeter: setup.greeter,
    });
  const atStart = await frontMemory(front);
  // A small first cycle warms code paths and pools up, so the measured ones see the steady state.
  await cycle(Math.ceil(s.idleStreams / 10));
  const cycles = [];
  for (let i = 0; i < s.idleCycles; i++) cycles.push(await cycle(s.idleStreams));
  const first = cycles[0];
  const last = cycles.at(-1);
  if (!first || !last) throw new Error("the idle workload needs at least one cycle");
  const notOpened = cycles.reduce((sum, c) => sum + s.idleStreams - c.opened, 0);
  return {
    values: {
      startRssMiB: atStart.rss / MiB,
      rssKiBPerStream: (rss(first.open) - rss(first.before)) / 1024 / s.idleStreams,
      heapKiBPerStream: (heap(first.open) - heap(first.before)) / 1024 / s.idleStreams,
      leftOpen: last.leftOpen,
      rssGrowthKiBPerCycle: growthPerCycle(cycles, rss),
      heapGrowthKiBPerCycle: growthPerCycle(cycles, heap),
    },
    failed: notOpened,
    firstFailure: notOpened > 0 ? `${notOpened} idle streams never delivered their first reply` : undefined,
  };
}
