// Graceful drain of the real CLI on SIGTERM: readiness turns false, nothing new is accepted, calls in
// flight get the grace period and the rest end with UNAVAILABLE in a trailer frame, the process exits 0.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { waitFor } from "../../testing/net.js";
import { type Backend, startBackend } from "./support/backends.js";
import { type RunningCli, startCli } from "./support/cli-process.js";
import { grpcWebCall } from "./support/grpc-web-client.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
const hello = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "Ada" }));

function longStream(url: string, count: number) {
  return grpcWebCall(url, STREAM, {
    message: hello,
    headers: { "x-stream-count": String(count), "x-stream-interval-ms": "100" },
  });
}

describe("graceful drain of the CLI", () => {
  let backend: Backend;
  const clis: RunningCli[] = [];
  before(async () => {
    backend = await startBackend("connect-node");
  });
  after(async () => {
    for (const { child } of clis) if (child.exitCode === null) child.kill("SIGKILL");
    await backend?.close();
  });
  const run = async (drainTimeout: string) => {
    const running = await startCli(["--upstream", backend.url, "--drain-timeout", drainTimeout]);
    clis.push(running);
    return running;
  };
  const streamStarted = (count: number) =>
    backend.waitFor((o) => o.event === "started" && o.metadata["x-stream-count"] === String(count));

  test("SIGTERM with a long stream in flight: a clean end, nothing new accepted, exit 0 in the grace period", async () => {
    const graceMs = 1500;
    const proxy = await run(`${graceMs}ms`);
    const stream = longStream(proxy.url, 100);
    await streamStarted(100);

    const signalledAt = performance.now();
    proxy.child.kill("SIGTERM");
    const readiness = await waitFor(async () => {
      const response = await fetch(`${proxy.adminUrl}/readyz`);
      return response.status === 503 ? await response.json() : undefined;
    });
    assert.equal(readiness.draining, true);
    const fresh = await grpcWebCall(proxy.url, SAY_HELLO, { message: hello }).then(
      (result) => result.grpcStatus,
      (error: NodeJS.ErrnoException) => error.code,
    );
    assert.ok(fresh === "ECONNREFUSED" || fresh === 14, `a new call is refused, got ${fresh}`);

    const result = await stream;
    assert.equal(result.status, 200);
    assert.ok(result.messages.length > 0, "the stream was under way");
    assert.ok(result.messages.length < 100, "and was cut short");
    assert.equal(result.trailerFrameCount, 1, "it ended with one trailer frame");
    assert.equal(result.grpcStatus, 14);
    assert.equal(result.grpcMessage, "the proxy is shutting down");

    assert.equal(await proxy.exited, 0);
    const tookMs = performance.now() - signalledAt;
    assert.ok(
      tookMs >= graceMs - 100 && tookMs < graceMs + 2000,
      `exited ${Math.round(tookMs)} ms after SIGTERM`,
    );
    await backend.waitFor((o) => o.event === "cancelled" && o.metadata["x-stream-count"] === "100");
    assert.match(proxy.log(), /ended 1 call\(s\) still in flight with UNAVAILABLE/);
  });

  test("a call that ends within the grace period ends normally, and the exit follows it", async () => {
    const proxy = await run("20s");
    const stream = longStream(proxy.url, 8);
    await streamStarted(8);
    const signalledAt = performance.now();
    proxy.child.kill("SIGTERM");
    const result = await stream;
    assert.equal(result.grpcStatus, 0);
    assert.equal(result.messages.length, 8);
    assert.equal(await proxy.exited, 0);
    assert.ok(performance.now() - signalledAt < 5000, "no wait for the rest of the grace period");
  });

  test("a second signal exits at once", async () => {
    const proxy = await run("30s");
    const stream = longStream(proxy.url, 200).catch((error: Error) => error);
    await streamStarted(200);
    proxy.child.kill("SIGTERM");
    await waitFor(() => (proxy.log().includes("draining") ? true : undefined));
    const signalledAt = performance.now();
    proxy.child.kill("SIGINT");
    assert.equal(await proxy.exited, 1);
    assert.ok(performance.now() - signalledAt < 2000);
    await stream;
  });
});
