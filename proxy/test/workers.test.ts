// --workers N: the CLI forks N processes that share the port, replaces one that dies, and passes
// SIGTERM on so that they all drain and exit.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { alive, dieWithTest } from "../../testing/lifeline.js";
import { freePort, waitFor } from "../../testing/net.js";
import { Code } from "../src/index.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";

const CLI = new URL("../src/cli.ts", import.meta.url).pathname;
const PATH = "/helloworld.Greeter/SayHello";

interface LogLine {
  readonly pid: number;
  readonly msg: string;
  readonly role?: string;
}

describe("--workers", () => {
  let upstream: EchoUpstream;
  let primary: ChildProcess;
  let url: string;
  const lines: LogLine[] = [];

  before(async () => {
    upstream = await startEchoUpstream();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    primary = spawn(
      process.execPath,
      ["--import", "tsx", CLI, "--upstream", upstream.url, "--listen", `127.0.0.1:${port}`, "--workers", "2"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    dieWithTest(primary);
    let pending = "";
    primary.stdout?.on("data", (chunk: Buffer) => {
      pending += chunk;
      const complete = pending.split("\n");
      pending = complete.pop() ?? "";
      for (const line of complete) if (line.startsWith("{")) lines.push(JSON.parse(line) as LogLine);
    });
    await waitFor(() => (listeningWorkers().size === 2 ? true : undefined), 60_000); // a bound only: starting three processes under tsx took over 20 s on a loaded machine
  });
  after(async () => {
    if (primary.exitCode === null) {
      primary.kill("SIGKILL");
      await once(primary, "exit");
    }
    await upstream.close();
  });

  const listeningWorkers = () =>
    new Set(lines.filter((l) => l.msg.startsWith("Server listening")).map((l) => l.pid));
  const callingWorkers = () => new Set(lines.filter((l) => l.msg === "call").map((l) => l.pid));

  /** One call on a connection of its own; a connection that no process serves fails rather than hangs. */
  const call = () =>
    grpcWebCall(url, PATH, { message: new Uint8Array(), signal: AbortSignal.timeout(5_000) });

  /** Calls, each on a connection of its own, until both given workers have served one. */
  async function callUntilServedBy(workers: ReadonlySet<number>): Promise<void> {
    await waitFor(async () => {
      const result = await call();
      assert.equal(result.grpcStatus, Code.OK);
      const served = callingWorkers();
      return [...workers].every((pid) => served.has(pid)) ? true : undefined;
    }, 10_000);
  }

  test("two worker processes, not the primary, share the port and both serve calls", async () => {
    const workers = listeningWorkers();
    assert.equal(workers.size, 2);
    assert.equal(workers.has(primary.pid as number), false);
    await callUntilServedBy(workers);
  });

  test("a worker that dies is replaced, and calls go on meanwhile", async () => {
    const [victim, survivor] = [...listeningWorkers()] as [number, number];
    process.kill(victim, "SIGKILL");
    // Once the primary knows, it hands new connections to the survivor only.
    await waitFor(() =>
      lines.some((l) => l.role === "primary" && l.msg.includes(`worker ${victim} exited`)) ? true : undefined,
    );
    const result = await call();
    assert.equal(result.grpcStatus, Code.OK);
    // Forking a worker (tsx compiles the CLI again) takes a while on a loaded machine.
    const replacement = await waitFor(
      () => [...listeningWorkers()].find((pid) => pid !== victim && pid !== survivor),
      60_000,
    );
    await callUntilServedBy(new Set([survivor, replacement]));
  });

  test("SIGTERM to the primary drains every worker; the primary exits 0 after them", async () => {
    const workers = [...listeningWorkers()].filter(alive);
    primary.kill("SIGTERM");
    const [code] = await once(primary, "exit");
    assert.equal(code, 0);
    assert.deepEqual(workers.filter(alive), []);
  });
});
