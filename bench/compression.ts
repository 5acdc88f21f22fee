// `npm run bench:compression`: what --response-compression saves on the wire and costs the proxy's CPU.
// Three proxies (off, gzip, br), each with its own connect-node Greeter, pinned as the main bench pins setup C
// (proxy on CPU 0; backend and this load generator on CPU 1). Every call asks as Chromium does
// (Accept-Encoding: gzip, deflate, br, zstd) and is verified after undoing the coding. Rounds interleave the
// settings; the table gives medians.
import http from "node:http";
import { parseArgs } from "node:util";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { paths, records, streamName, streamReply, unaryReply } from "./greeter/contract.js";
import { pinSelf, stopAllProcesses } from "./procs/pinned.js";
import { CpuMeter, type CpuSpent } from "./procs/usage.js";
import { DEFAULT_PROXY_CLI, type Running, start, unavailable } from "./setups.js";
import { spread } from "./stats.js";
import { Base64TextDecoder } from "./wire/base64-text.js";
import { helloReplyPayload, helloRequestFrame } from "./wire/frames.js";
import { type Expectation, ResponseCheck } from "./wire/response-check.js";

const SETTINGS = ["off", "gzip", "br"] as const;
type Setting = (typeof SETTINGS)[number];
/** What Chromium sends, over HTTPS and to loopback. */
const ACCEPT_ENCODING = "gzip, deflate, br, zstd";
const MiB = 1024 * 1024;

interface Workload {
  readonly name: string;
  readonly path: string;
  readonly requestName: string;
  readonly expect: Expectation;
  readonly calls: number;
  readonly concurrency: number;
}

const largeName = records(MiB - unaryReply("").length);
const stream = { replies: 20_000, replyBytes: 1024 };
const workloads: Workload[] = [
  {
    name: "small unary",
    path: paths.unary,
    requestName: "Ada",
    expect: { payload: helloReplyPayload(unaryReply("Ada")), messages: 1 },
    calls: 3000,
    concurrency: 16,
  },
  {
    name: "1 MiB unary",
    path: paths.unary,
    requestName: largeName,
    expect: { payload: helloReplyPayload(unaryReply(largeName)), messages: 1 },
    calls: 40,
    concurrency: 2,
  },
  {
    name: `stream of ${stream.replies.toLocaleString("en")} × 1 KiB`,
    path: paths.serverStream,
    requestName: streamName(stream),
    expect: { payload: helloReplyPayload(streamReply(stream.replyBytes)), messages: stream.replies },
    calls: 2,
    concurrency: 1,
  },
];

interface Measure {
  /** Response body bytes per call, as they crossed the wire. */
  wireBytes: number;
  /** Front (proxy) CPU µs per call and per reply message. */
  cpuPerCall: number;
  cpuPerMessage: number;
  coding: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
  const rounds = Number(values.rounds);
  const missing = unavailable("C", DEFAULT_PROXY_CLI);
  if (missing) throw new Error(missing);
  pinSelf();
  const proxies = new Map<Setting, Running>();
  try {
    for (const setting of SETTINGS) {
      proxies.set(
        setting,
        await start("C", {
          backend: "connect",
          frontNodeFlags: [],
          proxyCli: DEFAULT_PROXY_CLI,
          proxyArgs: ["--response-compression", setting, "--log-level", "warn"],
        }),
      );
    }
    const results = new Map<string, Measure[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const workload of workloads) {
        for (const text of [false, true]) {
          for (const setting of SETTINGS) {
            const measure = await run(proxies.get(setting) as Running, workload, text);
            const key = `${workload.name}|${text ? "text" : "binary"}|${setting}`;
            results.set(key, [...(results.get(key) ?? []), measure]);
            process.stderr.write(`round ${round}: ${key}: ${JSON.stringify(measure)}\n`);
          }
        }
      }
    }
    process.stdout.write(table(results, rounds));
  } finally {
    await stopAllProcesses();
  }
}

async function run(setup: Running, workload: Workload, text: boolean): Promise<Measure> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workload.concurrency });
  try {
    // Warm-up: connections open, the proxy's code compiled.
    await callMany(setup.origin, agent, workload, text, workload.concurrency * 2);
    const meter = new CpuMeter(new Map([["front", setup.front?.pid as number]]));
    meter.start();
    const { wireBytes, coding } = await callMany(setup.origin, agent, workload, text, workload.calls);
    const cpuUs = (meter.stop().get("front") as CpuSpent).us;
    return {
      wireBytes: wireBytes / workload.calls,
      cpuPerCall: cpuUs / workload.calls,
      cpuPerMessage: cpuUs / (workload.calls * workload.expect.messages),
      coding,
    };
  } finally {
    agent.destroy();
  }
}

async function callMany(
  origin: string,
  agent: http.Agent,
  workload: Workload,
  text: boolean,
  calls: number,
): Promise<{ wireBytes: number; coding: string }> {
  const framed = helloRequestFrame(workload.requestName);
  const body = text ? Buffer.from(framed.toString("base64")) : framed;
  let left = calls;
  let wireBytes = 0;
  let coding = "none";
  const caller = async () => {
    while (left-- > 0) {
      const reply = await call(origin, agent, workload.path, body, text);
      wireBytes += reply.body.length;
      coding = reply.coding;
      verify(reply, workload.expect, text);
    }
  };
  await Promise.all(Array.from({ length: workload.concurrency }, caller));
  return { wireBytes, coding };
}

interface Reply {
  body: Buffer;
  coding: string;
}

function call(origin: string, agent: http.Agent, path: string, body: Buffer, text: boolean): Promise<Reply> {
  const type = text ? "application/grpc-web-text" : "application/grpc-web+proto";
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, origin), {
      method: "POST",
      agent,
      headers: { "content-type": type, accept: type, "accept-encoding": ACCEPT_ENCODING },
    });
    request.once("error", reject);
    request.once("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("error", reject);
      response.once("end", () =>
        resolve({ body: Buffer.concat(chunks), coding: response.headers["content-encoding"] ?? "none" }),
      );
    });
    request.end(body);
  });
}

/** Undoes the coding (and base64 in text mode), then checks every reply byte and the status. */
function verify(reply: Reply, expect: Expectation, text: boolean): void {
  const decoded =
    reply.coding === "gzip"
      ? gunzipSync(reply.body)
      : reply.coding === "br"
        ? brotliDecompressSync(reply.body)
        : reply.body;
  const check = new ResponseCheck(expect);
  check.push(text ? new Base64TextDecoder().push(decoded.toString("latin1")) : decoded);
  const verdict = check.verdict();
  if (verdict) throw new Error(`unverified reply (${reply.coding}): ${verdict}`);
}

function table(results: Map<string, Measure[]>, rounds: number): string {
  const at = (key: string, pick: (m: Measure) => number) => spread((results.get(key) ?? []).map(pick)).median;
  const bytes = (n: number) => (n >= 10 * 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n.toFixed(0)} B`);
  const us = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  let out =
    `Median of ${rounds} interleaved rounds; Accept-Encoding: ${ACCEPT_ENCODING}. Bytes: response body per call on the wire. ` +
    "CPU: the proxy process's µs per call (per message for the stream).\n\n" +
    "| workload | mode | bytes off | gzip | br | CPU off | gzip | br |\n" +
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const workload of workloads) {
    const perMessage = workload.expect.messages > 1;
    for (const mode of ["binary", "text"]) {
      const key = (setting: Setting) => `${workload.name}|${mode}|${setting}`;
      const cells = SETTINGS.map((s) => bytes(at(key(s), (m) => m.wireBytes)));
      const cpu = SETTINGS.map((s) => us(at(key(s), (m) => (perMessage ? m.cpuPerMessage : m.cpuPerCall))));
      const codings = SETTINGS.map((s) => results.get(key(s))?.[0]?.coding ?? "?");
      const shown = cells.map((cell, i) =>
        codings[i] === "none" && i > 0 ? `${cell} (not compressed)` : cell,
      );
      out += `| ${workload.name}${perMessage ? " (CPU per message)" : ""} | ${mode} | ${shown.join(" | ")} | ${cpu.join(" | ")} |\n`;
    }
  }
  return out;
}

main().catch(async (error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  await stopAllProcesses();
  process.exit(1);
});
