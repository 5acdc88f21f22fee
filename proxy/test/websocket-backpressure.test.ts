// A browser that reads a fast WebSocket call very slowly: the proxy pauses the upstream stream instead of piling the
// replies up, so its memory per call stays bounded (measured as the CLI process's RSS), and lets go of everything
// when the sockets go.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cliInFrontOfConnectNode } from "./support/cli-process.js";
import { helloRequest } from "./support/hello-messages.js";
import { adminLoad, settled } from "./support/proxy-load.js";
import { openWebSocketCall } from "./support/websocket-call.js";

const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
const MiB = 1024 * 1024;
const SLOW_READERS = 10;
const GRPC_WEB = { "content-type": "application/grpc-web+proto" };

describe("a WebSocket client that reads a fast stream very slowly", () => {
  const running = cliInFrontOfConnectNode();

  const stream = async (count: number, paused: boolean) => {
    const call = await openWebSocketCall(`${running.cli.url}${STREAM}`);
    if (paused) call.socket.pause();
    call.sendMetadata({ ...GRPC_WEB, "x-stream-count": String(count), "x-reply-bytes": "65536" });
    call.sendMessage(helloRequest("Ada"));
    call.finish();
    return call;
  };

  test("keeps the proxy's memory bounded: backpressure reaches the backend instead of piling up", async (t) => {
    // Warm up the paths the calls take (connection, session, JIT) so that they do not count as growth.
    for (let i = 0; i < 20; i++) {
      const warm = await (await stream(4, false)).result;
      assert.equal(warm.trailers?.["grpc-status"], "0");
    }
    const rss = async () => (await adminLoad(running.cli.adminUrl)).rssBytes as number;
    const baseline = await rss();
    // 64 KiB messages as fast as the backend can make them, to clients that do not read at all.
    const readers = await Promise.all(Array.from({ length: SLOW_READERS }, () => stream(1_000_000, true)));
    const samples: number[] = [];
    for (let tick = 1; tick <= 20; tick++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (tick % 5 === 0) samples.push(await rss());
    }
    const during = await adminLoad(running.cli.adminUrl);
    for (const reader of readers) reader.socket.terminate();
    const afterwards = await settled(() => adminLoad(running.cli.adminUrl), 3000);
    const growth = Math.max(...samples) - baseline;
    const figures = {
      readers: SLOW_READERS,
      baselineMiB: mib(baseline),
      samplesMiB: samples.map(mib),
      growthMiB: mib(growth),
      perReaderMiB: mib(growth / SLOW_READERS),
      afterDisconnectMiB: mib(afterwards.rssBytes as number),
    };
    t.diagnostic(`slow WebSocket readers: ${JSON.stringify(figures)}`);
    assert.equal(during.activeCalls, SLOW_READERS);
    // As over HTTP: a paused call holds at most the upstream stream window (1 MiB) and socket buffers.
    assert.ok(growth / SLOW_READERS < 6 * MiB, `RSS grew by ${figures.perReaderMiB} MiB per reader`);
    assert.equal(afterwards.activeCalls, 0);
    // Every upstream stream was reset: none is left open (connect-node's handler, stuck in a write the window no
    // longer lets through, never gets to record the cancel, so the proxy's own count is the one to read).
    assert.equal(afterwards.upstreamStreams, 0);
  });
});

function mib(bytes: number): number {
  return Math.round((bytes / MiB) * 10) / 10;
}
