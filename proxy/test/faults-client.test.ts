// Clients that go away at every stage of a call, and one that reads a fast stream very slowly: the proxy lets go
// of everything (calls, upstream streams, memory), tells the backend, and goes on serving.
import assert from "node:assert/strict";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { ProxyOps } from "../src/index.js";
import type { Backend } from "./support/backends.js";
import { cliInFrontOfConnectNode } from "./support/cli-process.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { framedHelloRequest, helloReplies, helloRequest } from "./support/hello-messages.js";
import { type ProxiedBackend, startProxiedBackend } from "./support/proxied-backend.js";
import { startProxy } from "./support/proxy.js";
import { adminLoad, inProcessLoad, settled } from "./support/proxy-load.js";
import { RawHttpConnection } from "./support/raw-http.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
const MiB = 1024 * 1024;
const SLOW_READERS = 10;

/** A request head for `path`; `extra` header lines are added as they are. */
function head(path: string, contentLength: number, extra: readonly string[] = [], text = false): Buffer {
  const type = text ? "application/grpc-web-text" : "application/grpc-web+proto";
  const lines = [`POST ${path} HTTP/1.1`, "Host: localhost", `Content-Type: ${type}`, ...extra];
  return Buffer.from(`${[...lines, `Content-Length: ${contentLength}`].join("\r\n")}\r\n\r\n`, "latin1");
}

function request(path: string, extra: readonly string[] = [], text = false): Buffer {
  const body = text ? Buffer.from(framedHelloRequest("Ada").toString("base64")) : framedHelloRequest("Ada");
  return Buffer.concat([head(path, body.length, extra, text), body]);
}

interface Stage {
  readonly name: string;
  /** Sends what the client sends before it goes; resolves when it is time to go. */
  readonly before: (connection: RawHttpConnection, ctx: { ops: ProxyOps; backend: Backend }) => Promise<void>;
  /** How the backend must have seen the call end, if it saw the call at all. */
  readonly backendSees: "nothing" | "cancelled" | "finished";
}

const secondMessage = (text: boolean) => (received: Buffer) => {
  const body = received.toString("latin1");
  return text ? body.includes(Buffer.from("#2").toString("base64").slice(0, 2)) : body.includes("#2");
};

const stages: readonly Stage[] = [
  {
    name: "halfway through the request headers",
    before: async (connection) => {
      connection.send(Buffer.from(`POST ${SAY_HELLO} HTTP/1.1\r\nHost: localhost\r\nContent-Ty`, "latin1"));
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    backendSees: "nothing",
  },
  {
    name: "halfway through the request body",
    before: async (connection, { ops }) => {
      connection.send(Buffer.concat([head(SAY_HELLO, 10), framedHelloRequest("Ada").subarray(0, 5)]));
      await settledOn(ops, 1);
    },
    backendSees: "nothing",
  },
  {
    name: "while the backend works on a unary call",
    before: async (connection, { backend }) => {
      connection.send(request(SAY_HELLO, ["x-sleep-ms: 10000"]));
      await backend.waitFor((o) => o.event === "started" && o.metadata["x-sleep-ms"] === "10000");
    },
    backendSees: "cancelled",
  },
  {
    name: "in the middle of a response stream",
    before: async (connection) => {
      connection.send(request(STREAM, ["x-stream-count: 1000", "x-stream-interval-ms: 20"]));
      assert.ok(await connection.waitForBytes(secondMessage(false)));
    },
    backendSees: "cancelled",
  },
  {
    name: "in the middle of a grpc-web-text response stream",
    before: async (connection) => {
      connection.send(request(STREAM, ["x-stream-count: 1000", "x-stream-interval-ms: 20"], true));
      assert.ok(await connection.waitForBytes((received) => received.length > 400));
    },
    backendSees: "cancelled",
  },
  {
    name: "right after the whole response came",
    before: async (connection) => {
      connection.send(request(SAY_HELLO));
      assert.ok(await connection.readResponse());
    },
    backendSees: "finished",
  },
];

/** Resolves once `calls` calls are in flight. */
async function settledOn(ops: ProxyOps, calls: number): Promise<void> {
  for (;;) {
    if ((await inProcessLoad(ops)).activeCalls === calls) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("a client that goes away", () => {
  let env: ProxiedBackend;
  before(async () => {
    env = await startProxiedBackend("connect-node");
  });
  after(() => env?.close());

  for (const stage of stages) {
    test(`${stage.name}: no call or upstream stream is left, the backend is told, the proxy serves on`, async () => {
      const { backend, proxy, ops } = env;
      const seenBefore = backend.observations.length;
      const connection = await RawHttpConnection.open(Number(new URL(proxy.url).port));
      await stage.before(connection, { ops, backend });
      connection.destroy();
      await settled(() => inProcessLoad(ops), 2000);
      if (stage.backendSees === "cancelled") {
        await backend.waitFor(
          (o) => o.event === "cancelled" && backend.observations.indexOf(o) >= seenBefore,
        );
      }
      const good = await grpcWebCall(proxy.url, SAY_HELLO, { message: helloRequest("Ada") });
      assert.deepEqual(helloReplies(good.messages), ["Hello, Ada!"]);
      const ends = backend.observations.slice(seenBefore).filter((o) => o.event !== "started");
      const expected = stage.backendSees === "nothing" ? [] : [stage.backendSees];
      assert.deepEqual(
        ends.map((o) => o.event),
        [...expected, "finished"],
        "the stage's call, then the good call",
      );
    });
  }

  test("while the proxy is still connecting to the backend: the waiting stream is dropped too", async () => {
    const sockets: net.Socket[] = [];
    const hole = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hole.listen(0, "127.0.0.1", resolve));
    const holeOps = new ProxyOps({ processMetrics: false });
    const stuck = await startProxy(`http://127.0.0.1:${(hole.address() as AddressInfo).port}`, {
      ops: holeOps,
      connectTimeout: "60s",
    });
    try {
      const connection = await RawHttpConnection.open(Number(new URL(stuck.url).port));
      connection.send(request(SAY_HELLO));
      await settledOn(holeOps, 1);
      assert.equal((await inProcessLoad(holeOps)).upstreamStreams, 1, "the stream waits for the connection");
      connection.destroy();
      await settled(() => inProcessLoad(holeOps), 2000);
    } finally {
      await stuck.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hole.close(resolve));
    }
  });
});

describe("a browser that reads a fast stream very slowly", () => {
  const running = cliInFrontOfConnectNode();

  test("keeps the proxy's memory bounded: backpressure reaches the backend instead of piling up", async (t) => {
    // Warm up the paths the streams take (connection, session, JIT) so that they do not count as growth.
    for (let i = 0; i < 20; i++) {
      const warm = await grpcWebCall(running.cli.url, STREAM, {
        message: helloRequest("warm"),
        headers: { "x-stream-count": "4", "x-reply-bytes": "65536" },
      });
      assert.equal(warm.grpcStatus, 0);
    }
    const rss = async () => (await adminLoad(running.cli.adminUrl)).rssBytes as number;
    const baseline = await rss();
    // 64 KiB messages as fast as the backend can make them, to clients reading 16 KiB every 100 ms each.
    const readers = Array.from({ length: SLOW_READERS }, () => {
      const socket = net.connect(Number(new URL(running.cli.url).port), "127.0.0.1");
      socket.pause();
      socket.write(request(STREAM, ["x-stream-count: 1000000", "x-reply-bytes: 65536"]));
      return socket;
    });
    let read = 0;
    const samples: number[] = [];
    for (let tick = 1; tick <= 40; tick++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const socket of readers) read += (socket.read(16 * 1024) as Buffer | null)?.length ?? 0;
      if (tick % 5 === 0) samples.push(await rss());
    }
    const during = await adminLoad(running.cli.adminUrl);
    for (const socket of readers) socket.destroy();
    const afterwards = await settled(() => adminLoad(running.cli.adminUrl), 3000);
    const growth = Math.max(...samples) - baseline;
    const figures = {
      readers: SLOW_READERS,
      seconds: 4,
      baselineMiB: mib(baseline),
      samplesMiB: samples.map(mib),
      growthMiB: mib(growth),
      perReaderMiB: mib(growth / SLOW_READERS),
      clientsReadMiB: mib(read),
      afterDisconnectMiB: mib(afterwards.rssBytes as number),
    };
    t.diagnostic(`slow readers: ${JSON.stringify(figures)}`);
    assert.equal(during.activeCalls, SLOW_READERS);
    assert.ok(read > 0 && read < SLOW_READERS * MiB, `the clients read ${read} bytes, slowly`);
    // A paused stream holds at most the upstream stream window (1 MiB) and socket buffers: about 3 MiB per
    // reader, where an 8 MiB window made it about 8.
    assert.ok(growth / SLOW_READERS < 6 * MiB, `RSS grew by ${figures.perReaderMiB} MiB per reader`);
    assert.equal(afterwards.activeCalls, 0);
  });
});

function mib(bytes: number): number {
  return Math.round((bytes / MiB) * 10) / 10;
}
