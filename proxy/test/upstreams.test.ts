// Upstreams over several addresses: dns:/// names resolved again and again (with an injected
// resolver, onto 127.0.0.2 and 127.0.0.3), round-robin, ejection of an address that does not connect
// and its return, calls that never left retried elsewhere, a backend restarting, and the session
// pool's keepalive PINGs and idle close.
import assert from "node:assert/strict";
import http2, { type ClientHttp2Stream, type OutgoingHttpHeaders } from "node:http2";
import net from "node:net";
import { afterEach, describe, mock, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { DEAD_PORT, freePort, waitFor } from "../../testing/net.js";
import { buildServer, Code, type ServerOptions } from "../src/index.js";
import { parseUpstreamAddress, type UpstreamAddress } from "../src/upstream/address.js";
import { Balancer } from "../src/upstream/balancer.js";
import { UpstreamPool } from "../src/upstream/pool.js";
import type { Resolver } from "../src/upstream/resolver.js";
import type { UpstreamOptions } from "../src/upstream/routing.js";
import { backendKinds, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { framedHelloRequest, helloReplies, helloRequest } from "./support/hello-messages.js";
import { greetingFrom, type LoopbackGreeter, startLoopbackGreeter } from "./support/loopback-greeter.js";
import { startProxy } from "./support/proxy.js";
import { startRawUpstream } from "./support/raw-upstream.js";
import { startTcpRelay } from "./support/tcp-relay.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const NAME = "greeter.test";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * Greeters on each loopback host, all on one port (as the replicas behind one DNS name). The same port on another
 * loopback host is a dead address that a test can bring to life: nothing else binds 127.0.0.3 and up here, and no
 * wildcard bind can take the port while the first greeter holds it.
 */
async function greeters(...hosts: string[]): Promise<{ port: number; on: Map<string, LoopbackGreeter> }> {
  const port = await freePort();
  const on = new Map<string, LoopbackGreeter>();
  for (const host of hosts) {
    const greeter = await startLoopbackGreeter(host, port);
    on.set(host, greeter);
    cleanups.push(() => greeter.close());
  }
  return { port, on };
}

/** A resolver for NAME whose answer the test changes; `null` makes it fail as DNS does. */
function fakeDns(initial: string[] | null): { resolve: Resolver; answer: (ips: string[] | null) => void } {
  let current = initial;
  return {
    resolve: async (host) => {
      if (host !== NAME || current === null) {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      }
      return current;
    },
    answer: (ips) => {
      current = ips;
    },
  };
}

async function proxyTo(
  upstream: UpstreamOptions,
  options: Omit<ServerOptions, "upstreams"> = {},
): Promise<string> {
  const app: FastifyInstance = await buildServer({
    logger: false,
    ...options,
    upstreams: { greeter: upstream },
  });
  cleanups.push(() => app.close());
  return app.listen({ host: "127.0.0.1", port: 0 });
}

/** The host that answered one SayHello through the proxy; fails on any error status. */
async function whoAnswers(url: string): Promise<string> {
  const call = await grpcWebCall(url, SAY_HELLO, { message: helloRequest("Ada") });
  assert.equal(call.grpcStatus, Code.OK, call.grpcMessage);
  const [reply] = helloReplies(call.messages);
  return reply?.replace(greetingFrom(""), "") ?? "";
}

async function answers(url: string, calls: number): Promise<string[]> {
  const hosts: string[] = [];
  for (let i = 0; i < calls; i++) hosts.push(await whoAnswers(url));
  return hosts;
}

/** One call of SayHello on `channel` (a Balancer or an UpstreamPool): resolves when its stream closes. */
function callOn(channel: { request(headers: OutgoingHttpHeaders): ClientHttp2Stream }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = channel.request({
      ":method": "POST",
      ":path": SAY_HELLO,
      "content-type": "application/grpc",
    });
    stream.on("error", reject).on("close", resolve).resume();
    stream.end(framedHelloRequest("Ada"));
  });
}

function address(text: string): UpstreamAddress {
  const parsed = parseUpstreamAddress(text);
  if (typeof parsed === "string") assert.fail(parsed);
  return parsed;
}

describe("upstream addresses", () => {
  test("http, https, dns:/// and dns+https:/// parse; anything else says which forms it takes", () => {
    assert.deepEqual(address("dns:///greeter.default.svc:50051"), {
      kind: "dns",
      host: "greeter.default.svc",
      port: 50051,
      tls: false,
    });
    assert.deepEqual(address("dns:///[::1]:50051"), { kind: "dns", host: "::1", port: 50051, tls: false });
    assert.deepEqual(address("dns+https:///greeter:443"), {
      kind: "dns",
      host: "greeter",
      port: 443,
      tls: true,
    });
    assert.equal(address("https://10.0.0.1:443").kind, "static");
    for (const bad of [
      "ftp://x:1",
      "dns://127.0.0.53/x:1",
      "dns:///x",
      "dns+http:///x:1",
      "http://x:1/prefix",
      "nope",
    ]) {
      assert.match(String(parseUpstreamAddress(bad)), /expected/, bad);
    }
  });
});

describe("round-robin and DNS", () => {
  test("calls alternate across the static addresses of an upstream", async () => {
    const { port } = await greeters("127.0.0.2", "127.0.0.3");
    const url = await proxyTo({ addresses: [`http://127.0.0.2:${port}`, `http://127.0.0.3:${port}`] });
    assert.deepEqual(await answers(url, 4), ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"]);
  });

  test("dns:/// follows the name: new addresses get calls, removed ones stop, a failed lookup keeps the last", async () => {
    const { port } = await greeters("127.0.0.2", "127.0.0.3");
    const dns = fakeDns(["127.0.0.2"]);
    const url = await proxyTo(
      { addresses: [`dns:///${NAME}:${port}`], dnsRefreshMs: 20 },
      { resolveHost: dns.resolve },
    );
    assert.deepEqual(await answers(url, 2), ["127.0.0.2", "127.0.0.2"], "resolved before the first call");

    dns.answer(["127.0.0.2", "127.0.0.3"]);
    await waitFor(async () => ((await whoAnswers(url)) === "127.0.0.3" ? true : undefined));
    assert.deepEqual(new Set(await answers(url, 4)), new Set(["127.0.0.2", "127.0.0.3"]));

    dns.answer(["127.0.0.3"]);
    await waitFor(async () => ((await answers(url, 2)).every((h) => h === "127.0.0.3") ? true : undefined));

    dns.answer(null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await answers(url, 3), ["127.0.0.3", "127.0.0.3", "127.0.0.3"]);
  });

  test("a name that does not resolve yet: UNAVAILABLE saying so, then calls flow once it does", async () => {
    const { port } = await greeters("127.0.0.2");
    const dns = fakeDns(null);
    const url = await proxyTo(
      { addresses: [`dns:///${NAME}:${port}`], dnsRefreshMs: 20 },
      { resolveHost: dns.resolve },
    );
    const early = await grpcWebCall(url, SAY_HELLO, { message: helloRequest("Ada") });
    assert.equal(early.grpcStatus, Code.UNAVAILABLE);
    assert.match(
      early.grpcMessage ?? "",
      /upstream greeter \(dns:\/\/\/greeter\.test:\d+\) has no addresses/,
    );
    dns.answer(["127.0.0.2"]);
    await waitFor(async () => {
      const call = await grpcWebCall(url, SAY_HELLO, { message: helloRequest("Ada") });
      return call.grpcStatus === Code.OK ? true : undefined;
    });
  });
});

describe("ejection and retries", () => {
  test("an address that refuses connections is ejected: the call sent there goes elsewhere, the next ones skip it, and it returns once it listens", async () => {
    const { port, on } = await greeters("127.0.0.2");
    const url = await proxyTo({ addresses: [`http://127.0.0.2:${port}`, `http://127.0.0.3:${port}`] });
    // Round-robin sends the second call to 127.0.0.3: it never connects, so it is sent again to 127.0.0.2.
    assert.deepEqual(await answers(url, 6), Array(6).fill("127.0.0.2"));
    assert.equal(on.get("127.0.0.2")?.calls(), 6);
    const back = await startLoopbackGreeter("127.0.0.3", port);
    cleanups.push(() => back.close());
    // After its backoff (1 s at first) one connection attempt, not a call, brings it back.
    await waitFor(async () => ((await whoAnswers(url)) === "127.0.0.3" ? true : undefined), 5_000);
  });

  test("the balancer reports an ejected address, and re-admits it after a successful retry", async () => {
    const { port } = await greeters("127.0.0.2");
    const logged: string[] = [];
    const balancer = new Balancer({
      name: "greeter",
      addresses: [address(`http://127.0.0.2:${port}`), address(`http://127.0.0.3:${port}`)],
      ejection: { baseMs: 50, maxMs: 200 },
      log: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
    });
    cleanups.push(() => balancer.close());
    assert.equal(await balancer.connect(), true, "one address is enough");
    await waitFor(() => (balancer.endpoints.some((e) => !e.healthy) ? true : undefined));
    assert.deepEqual(balancer.endpoints, [
      { address: `127.0.0.2:${port}`, healthy: true },
      { address: `127.0.0.3:${port}`, healthy: false },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few failed retries
    const back = await startLoopbackGreeter("127.0.0.3", port);
    cleanups.push(() => back.close());
    await waitFor(() => (balancer.endpoints.every((e) => e.healthy) ? true : undefined), 2_000);
    assert.deepEqual(
      logged.map((m) => m.replace(/\d+$/, "PORT")),
      [
        `upstream address 127.0.0.3:${port} ejected: connect ECONNREFUSED 127.0.0.3:PORT`,
        `upstream address 127.0.0.3:${port} is back`,
      ],
    );
  });

  test("several addresses ejected at once: calls go to the one left, each ejection is logged once", async () => {
    const { port, on } = await greeters("127.0.0.2");
    const logged: string[] = [];
    const balancer = new Balancer({
      name: "greeter",
      addresses: ["127.0.0.3", "127.0.0.4", "127.0.0.2"].map((host) => address(`http://${host}:${port}`)),
      log: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
    });
    cleanups.push(() => balancer.close());
    assert.equal(await balancer.connect(), true);
    await waitFor(() => (balancer.endpoints.filter((e) => !e.healthy).length === 2 ? true : undefined));
    for (let i = 0; i < 6; i++) await callOn(balancer);
    assert.equal(on.get("127.0.0.2")?.calls(), 6, "every call went to the address left");
    assert.deepEqual(logged.map((m) => m.replace(/:\d+/g, ":PORT")).sort(), [
      "upstream address 127.0.0.3:PORT ejected: connect ECONNREFUSED 127.0.0.3:PORT",
      "upstream address 127.0.0.4:PORT ejected: connect ECONNREFUSED 127.0.0.4:PORT",
    ]);
  });

  test("every address ejected: calls are still tried on them, and fail UNAVAILABLE naming the cause", async () => {
    const url = await proxyTo({
      addresses: [`http://127.0.0.1:${DEAD_PORT}`, `http://127.0.0.2:${DEAD_PORT}`],
    });
    for (let i = 0; i < 3; i++) {
      const call = await grpcWebCall(url, SAY_HELLO, { message: helloRequest("Ada") });
      assert.equal(call.grpcStatus, Code.UNAVAILABLE);
      assert.equal(call.grpcMessage, "upstream unavailable: ECONNREFUSED");
    }
  });

  test("an ejected address waits out a backoff that doubles after each failed retry, up to the cap", async (t) => {
    // Timers are mocked, so each wait is checked to the millisecond without waiting for it; the connection
    // attempts are real ones, to a port nothing listens on, counted as the pool opens their sockets.
    mock.timers.enable({ apis: ["setTimeout"] });
    t.after(() => mock.timers.reset());
    let attempts = 0;
    let failed: () => void = () => {};
    const balancer = new Balancer({
      name: "greeter",
      // https, so that the pool takes its connection from connectOptions.
      addresses: [address(`https://127.0.0.1:${DEAD_PORT}`)],
      connectOptions: {
        createConnection: () => {
          attempts++;
          const socket = net.connect(DEAD_PORT, "127.0.0.1");
          // After the pool's own handlers have seen the failure.
          socket.once("error", () => setImmediate(failed));
          return socket;
        },
      },
      ejection: { baseMs: 100, maxMs: 400 },
    });
    cleanups.push(() => balancer.close());
    const nextFailure = () => new Promise<void>((resolve) => (failed = resolve));
    let failure = nextFailure();
    assert.equal(await balancer.connect(), false);
    await failure;
    assert.deepEqual(balancer.endpoints, [{ address: `127.0.0.1:${DEAD_PORT}`, healthy: false }]);
    for (const waitMs of [100, 200, 400, 400, 400]) {
      const before = attempts;
      mock.timers.tick(waitMs - 1);
      assert.equal(attempts, before, `no attempt before ${waitMs} ms`);
      failure = nextFailure();
      mock.timers.tick(1);
      assert.equal(attempts, before + 1, `one attempt after ${waitMs} ms`);
      await failure;
    }
  });

  test("a stream the backend refuses is sent again to another address", async () => {
    const { port, on } = await greeters("127.0.0.2");
    const refusing = http2.createServer();
    let refused = 0;
    refusing.on("stream", (stream) => {
      refused++;
      stream.on("error", () => {}); // the reset it sends comes back to it as an error event
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    await new Promise<void>((resolve) => refusing.listen(port, "127.0.0.3", resolve));
    cleanups.push(() => new Promise((resolve) => refusing.close(resolve)));
    const url = await proxyTo({ addresses: [`http://127.0.0.3:${port}`, `http://127.0.0.2:${port}`] });
    assert.deepEqual(await answers(url, 4), Array(4).fill("127.0.0.2"));
    assert.equal(on.get("127.0.0.2")?.calls(), 4);
    assert.equal(refused, 2, "every other call went to 127.0.0.3 first: retries do not take a turn");
  });
});

describe("a backend that restarts", () => {
  for (const kind of backendKinds) {
    test(`${kind}: calls fail UNAVAILABLE while it is down, and the first call after it returns succeeds`, async () => {
      let backend = await startBackend(kind);
      cleanups.push(() => backend.close());
      const proxy = await startProxy(backend.url);
      cleanups.push(() => proxy.close());
      const hello = { message: helloRequest("Ada") };
      assert.equal((await grpcWebCall(proxy.url, SAY_HELLO, hello)).grpcStatus, Code.OK);

      await backend.close();
      const down = await grpcWebCall(proxy.url, SAY_HELLO, hello);
      assert.equal(down.grpcStatus, Code.UNAVAILABLE);
      assert.match(down.grpcMessage ?? "", /unavailable/);

      backend = await startBackend(kind, backend.port);
      const up = await grpcWebCall(proxy.url, SAY_HELLO, hello);
      assert.equal(up.grpcStatus, Code.OK, up.grpcMessage);
    });
  }
});

describe("session pool", () => {
  test("keepalive: a session whose PINGs go unanswered is destroyed and its call fails UNAVAILABLE; a slow call on a live one is not", async () => {
    const silent = await startRawUpstream(() => {}); // takes calls and never answers them
    cleanups.push(() => silent.close());
    const relay = await startTcpRelay(silent.port);
    cleanups.push(() => relay.close());
    // A PING every 50 ms, and a whole second for its answer: a loaded machine answers late, never that late.
    const proxy = await startProxy(relay.url, { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 1_000 });
    cleanups.push(() => proxy.close());

    const controller = new AbortController();
    let settled = false;
    const settle = () => {
      settled = true;
    };
    const slow = { message: helloRequest("slow"), signal: controller.signal };
    grpcWebCall(proxy.url, SAY_HELLO, slow).then(settle, settle);
    const live = await waitFor(() => silent.sessions[0]);
    let pings = 0;
    live.on("ping", () => pings++);
    await waitFor(() => (pings >= 3 ? true : undefined));
    assert.equal(settled, false, "PINGs answered: the call waits on");
    controller.abort();

    const doomed = grpcWebCall(proxy.url, SAY_HELLO, { message: helloRequest("doomed") });
    await waitFor(() => (silent.sessions.length > 0 ? true : undefined));
    relay.freeze();
    const call = await doomed;
    assert.equal(call.grpcStatus, Code.UNAVAILABLE);
    // TCP would have waited minutes: the keepalive is what ended the call.
    assert.equal(call.grpcMessage, "upstream unavailable: no answer to a keepalive PING within 1000 ms");
  });

  test("a session that has cancelled maxCancelsPerSession streams takes no more and closes when its last stream ends", async () => {
    // Node's HTTP/2 server closes a session after about a thousand cancelled streams (rapid-reset protection);
    // the pool retires one long before that.
    const held: http2.ServerHttp2Stream[] = [];
    const upstream = await startRawUpstream((stream) => {
      held.push(stream);
      stream.on("error", () => {}).resume();
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
    });
    cleanups.push(() => upstream.close());
    const pool = new UpstreamPool({ url: new URL(upstream.url) }, { maxCancelsPerSession: 3 });
    cleanups.push(() => pool.destroy()); // its last stream never ends
    const open = async () => {
      const stream = pool.request({
        ":method": "POST",
        ":path": SAY_HELLO,
        "content-type": "application/grpc",
      });
      stream.on("error", () => {}).resume();
      stream.end(framedHelloRequest("Ada"));
      await new Promise((resolve) => stream.once("response", resolve));
      return stream;
    };
    const survivor = await open();
    for (let i = 0; i < 2; i++) pool.cancel(await open());
    assert.equal(pool.sessionCount, 1, "two cancels: the session still takes streams");
    await open().then((stream) => pool.cancel(stream));
    await open();
    assert.equal(upstream.sessions.length, 2, "after the third cancel, a new session");
    assert.deepEqual(pool.sessionStates, { connecting: 0, connected: 1, retiring: 1 });
    // The retired session keeps its last stream until it ends, then goes.
    held[0]?.end();
    await new Promise((resolve) => survivor.once("close", resolve));
    await waitFor(() => (pool.sessionCount === 1 ? true : undefined));
    assert.deepEqual(pool.sessionStates, { connecting: 0, connected: 1, retiring: 0 });
  });

  test("a session without streams closes after the idle timeout, and the next call opens a new one", async () => {
    const { port, on } = await greeters("127.0.0.2");
    const pool = new UpstreamPool(
      { url: new URL(`http://127.0.0.2:${port}`) },
      { sessionIdleTimeoutMs: 100 },
    );
    cleanups.push(() => pool.close());
    const call = () => callOn(pool);
    await call();
    await call();
    assert.equal(pool.sessionCount, 1, "calls share a session");
    await waitFor(() => (pool.sessionCount === 0 ? true : undefined), 2_000);
    const greeter = on.get("127.0.0.2");
    await waitFor(() => (greeter?.sessions.every((s) => s.closed || s.destroyed) ? true : undefined));
    await call();
    assert.equal(greeter?.sessions.length, 2);
  });
});
