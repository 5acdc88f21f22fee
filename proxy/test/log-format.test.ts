// --log-format: JSON lines, or pino-pretty's with one readable line per call, from a real proxy process writing
// through the CLI's batched stdout; pino-pretty loaded only when chosen.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import pino from "pino";
import { dieWithTest } from "../../testing/lifeline.js";
import { defaultLogFormat, type LogFormat, loggerOptions } from "../src/ops/log-format.js";
import { type Backend, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { packagesLoadedBy, sourceUrl } from "./support/load-probe.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const PROXY = new URL("./support/log-format-proxy.ts", import.meta.url).pathname;
const hello = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "log" }));

/** A proxy process logging in `format`; `stop` ends it with SIGTERM and resolves to all it wrote to stdout. */
async function startProxyProcess(
  format: LogFormat,
  upstream: string,
): Promise<{ url: string; stop: () => Promise<string> }> {
  // CI set, as on CI: pino-pretty would take it for a terminal that shows colors.
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", PROXY, format, upstream],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } },
  );
  dieWithTest(child);
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk));
  const exited = once(child, "exit");
  const [port] = (await once(child.stderr ?? child, "data")) as [Buffer];
  return {
    url: `http://127.0.0.1:${port.toString().trim()}`,
    stop: async () => {
      child.kill("SIGTERM");
      const [code] = await exited;
      assert.equal(code, 0);
      return stdout;
    },
  };
}

describe("log formats in a proxy process", () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend("connect-node");
  });
  after(() => backend?.close());

  /** The log of a proxy in `format` that served an OK call, a failed one and one it refused itself. */
  async function logOfThreeCalls(format: LogFormat): Promise<string> {
    const proxy = await startProxyProcess(format, backend.url);
    const call = (requestId: string, path = SAY_HELLO, headers: Record<string, string> = {}) =>
      grpcWebCall(proxy.url, path, { message: hello, headers: { "x-request-id": requestId, ...headers } });
    assert.equal((await call("req-ok")).grpcStatus, 0);
    assert.equal((await call("req-fail", SAY_HELLO, { "x-fail-code": "5" })).grpcStatus, 5);
    assert.equal((await call("req-refused", "/helloworld.Greeter/No-Such")).grpcStatus, 12);
    // The lines are still in the destination's buffer (under 8 KiB, less than a second old): exit writes them.
    return proxy.stop();
  }

  test("pretty: one line per call with request id, method, status, duration, bytes and upstream", async () => {
    const log = await logOfThreeCalls("pretty");
    // The upstream's name: the one --upstream of the CLI is "default".
    const upstream = "default";
    const lines = log.split("\n");
    const callLine = (requestId: string) => {
      const index = lines.findIndex((line) => line.includes(` ${requestId} `));
      assert.ok(index >= 0, `a line for ${requestId} in:\n${log}`);
      assert.doesNotMatch(lines[index + 1] ?? "", /^\s/, "nothing more about the call on the lines after it");
      return lines[index];
    };
    const time = String.raw`\[\d\d:\d\d:\d\d\.\d{3}\]`;
    const duration = String.raw`\d+(\.\d+)? ms`;
    assert.match(
      callLine("req-ok") ?? "",
      new RegExp(
        `^${time} INFO: req-ok ${SAY_HELLO} OK ${duration} ${5 + hello.length} B in, \\d+ B out via ${upstream}$`,
      ),
    );
    assert.match(
      callLine("req-fail") ?? "",
      new RegExp(
        `^${time} INFO: req-fail ${SAY_HELLO} NOT_FOUND ${duration} \\d+ B in, 0 B out via ${upstream}$`,
      ),
    );
    assert.match(
      callLine("req-refused") ?? "",
      new RegExp(
        `^${time} INFO: req-refused /helloworld.Greeter/No-Such UNIMPLEMENTED \\(route\\) ${duration} 0 B in, 0 B out answered by the proxy$`,
      ),
    );
    assert.match(log, new RegExp(`^${time} INFO: Server listening at http://127.0.0.1:\\d+$`, "m"));
    assert.ok(!log.includes("{"), `no JSON in:\n${log}`);
  });

  test("json: the same calls as JSON lines", async () => {
    const log = await logOfThreeCalls("json");
    const lines = log
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const calls = lines.filter((line) => line.msg === "call");
    assert.deepEqual(
      calls.map(({ reqId, path, grpcCode }) => ({ reqId, path, grpcCode })),
      [
        { reqId: "req-ok", path: SAY_HELLO, grpcCode: "OK" },
        { reqId: "req-fail", path: SAY_HELLO, grpcCode: "NOT_FOUND" },
        { reqId: "req-refused", path: "/helloworld.Greeter/No-Such", grpcCode: "UNIMPLEMENTED" },
      ],
    );
    assert.equal(calls[0]?.upstream, "default");
  });
});

describe("the pretty format", () => {
  /** A logger in the pretty format without colors, and what it wrote. */
  async function prettyLogger(): Promise<{ logger: pino.Logger; written: string[] }> {
    const written: string[] = [];
    const options = await loggerOptions("pretty", "info", { write: (line) => written.push(line) }, false);
    return { logger: pino({ level: options.level }, options.stream), written };
  }

  test("hands each line to the destination as it is logged, so the destination's batching stays", async () => {
    const { logger, written } = await prettyLogger();
    logger.info({ certFile: "/etc/tls/cert.pem" }, "reloaded the TLS certificate");
    assert.equal(written.length, 1);
    assert.match(
      written[0] ?? "",
      /INFO: reloaded the TLS certificate\n\s+certFile: "\/etc\/tls\/cert.pem"\n$/,
    );
    logger.debug("below the level");
    assert.equal(written.length, 1);
  });

  test("an access line keeps to one line whatever a browser put in its path, and shows the cause", async () => {
    const { logger, written } = await prettyLogger();
    logger.info(
      {
        reqId: "r1\u001b[2J",
        path: "/a.B/C\nFAKE INFO: forged",
        upstream: undefined,
        grpcCode: "RESOURCE_EXHAUSTED",
        durationMs: 0.5,
        bytesIn: 0,
        bytesOut: 0,
        cause: "limit",
      },
      "call",
    );
    assert.match(
      written[0] ?? "",
      /INFO: r1\[2J \/a\.B\/CFAKE INFO: forged RESOURCE_EXHAUSTED \(limit\) 0\.5 ms 0 B in, 0 B out answered by the proxy\n$/,
    );
  });

  test("an access line of a call an interceptor failed on says what it threw", async () => {
    const { logger, written } = await prettyLogger();
    const call = { reqId: "r2", path: "/a.B/C", durationMs: 1, bytesIn: 0, bytesOut: 0, upstream: "b" };
    logger.info(
      {
        ...call,
        grpcCode: "UNKNOWN",
        cause: "interceptor:1 (checkTenant)",
        causeError: "db down: ECONNREFUSED",
      },
      "call",
    );
    assert.match(
      written[0] ?? "",
      /INFO: r2 \/a\.B\/C UNKNOWN \(interceptor:1 \(checkTenant\): db down: ECONNREFUSED\) 1 ms 0 B in, 0 B out via b\n$/,
    );
  });

  test("colors the status when asked to", async () => {
    const written: string[] = [];
    const options = await loggerOptions("pretty", "info", { write: (line) => written.push(line) }, true);
    const logger = pino({ level: options.level }, options.stream);
    const call = { reqId: "r", path: "/a.B/C", durationMs: 1, bytesIn: 0, bytesOut: 0, upstream: "b" };
    logger.info({ ...call, grpcCode: "OK" }, "call");
    logger.info({ ...call, grpcCode: "INTERNAL" }, "call");
    // Inside the message's own color: each status opens its color and goes back to the message's after it.
    const GREEN = "\u001b[32m";
    const RED = "\u001b[31m";
    assert.ok(written[0]?.includes(` ${GREEN}OK\u001b[`), JSON.stringify(written[0]));
    assert.ok(written[1]?.includes(` ${RED}INTERNAL\u001b[`), JSON.stringify(written[1]));
  });

  test("is the default on a terminal only", () => {
    assert.equal(defaultLogFormat({ isTTY: true }), "pretty");
    assert.equal(defaultLogFormat({ isTTY: false }), "json");
    assert.equal(defaultLogFormat({}), "json");
  });

  test("pino-pretty is loaded for the pretty format only", async () => {
    const withFormat = (format: LogFormat) => `
      const { loggerOptions } = await import(${JSON.stringify(sourceUrl("ops/log-format.ts"))});
      await loggerOptions(${JSON.stringify(format)}, "info", process.stdout);
    `;
    assert.equal((await packagesLoadedBy(withFormat("json"))).has("pino-pretty"), false);
    assert.equal((await packagesLoadedBy(withFormat("pretty"))).has("pino-pretty"), true);
  });
});
