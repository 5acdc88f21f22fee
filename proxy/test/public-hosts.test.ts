// The names the proxy answers to (against DNS rebinding): the decisions, then the refusals over real sockets.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildServer, Code } from "../src/index.js";
import { defaultPublicHosts, LOOPBACK_HOSTS, PublicHosts } from "../src/plugin/public-hosts.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";

describe("PublicHosts", () => {
  const hosts = new PublicHosts(["App.Example", "*.apps.example", "[::1]", "10.0.0.5"]);
  const cases: Array<[string | undefined, boolean]> = [
    ["app.example", true],
    ["APP.example:8443", true],
    ["a.apps.example", true],
    ["a.b.apps.example:80", true],
    ["apps.example", false],
    ["evilapps.example", false],
    ["app.example.evil.test", false],
    ["[::1]:8080", true],
    ["[::2]:8080", false],
    ["10.0.0.5:8080", true],
    ["rebind.evil.test:8080", false],
    [undefined, true],
  ];
  for (const [authority, allowed] of cases) {
    test(`${authority ?? "no Host"}: ${allowed ? "answered" : "refused"}`, () => {
      const verdict = hosts.check(authority);
      assert.equal(verdict.allowed, allowed);
      if (!verdict.allowed) assert.equal(verdict.host, authority);
    });
  }

  test("an empty list answers to every name", () => {
    const any = new PublicHosts([]);
    assert.equal(any.any, true);
    assert.equal(any.check("anything.test").allowed, true);
  });

  test("loopback names: localhost and its subdomains, 127.0.0.1 and ::1, never a rebinding name", () => {
    const loopback = new PublicHosts(LOOPBACK_HOSTS);
    for (const host of ["localhost:8080", "app.localhost:8080", "127.0.0.1:8080", "[::1]:8080"]) {
      assert.equal(loopback.check(host).allowed, true, host);
    }
    for (const host of ["rebind.evil.test:8080", "localhost.evil.test", "127.0.0.2:8080"]) {
      assert.equal(loopback.check(host).allowed, false, host);
    }
  });
});

test("default names: loopback ones when every listening address is loopback, else any", () => {
  assert.deepEqual(defaultPublicHosts(["127.0.0.1"]), LOOPBACK_HOSTS);
  assert.deepEqual(defaultPublicHosts(["127.0.0.1", "::1"]), LOOPBACK_HOSTS);
  assert.deepEqual(defaultPublicHosts(["[::1]", "localhost"]), LOOPBACK_HOSTS);
  assert.deepEqual(defaultPublicHosts(["0.0.0.0"]), []);
  assert.deepEqual(defaultPublicHosts(["127.0.0.1", "10.0.0.5"]), []);
  assert.deepEqual(defaultPublicHosts([]), []);
});

describe("over real sockets: the names a proxy answers to", () => {
  let upstream: EchoUpstream;
  const apps: FastifyInstance[] = [];
  before(async () => {
    upstream = await startEchoUpstream();
  });
  after(async () => {
    for (const app of apps) await app.close();
    await upstream?.close();
  });

  async function listening(options: { publicHosts?: string[] } = {}): Promise<string> {
    const app = await buildServer({ logger: false, upstream: upstream.url, ...options });
    apps.push(app);
    return app.listen({ host: "127.0.0.1", port: 0 });
  }
  const call = (url: string, host: string) =>
    grpcWebCall(url, "/helloworld.Greeter/SayHello", { message: new Uint8Array(), headers: { host } });

  test("on loopback by default: a rebinding name gets 421 and never reaches the backend; localhost is served", async () => {
    const url = await listening();
    const port = new URL(url).port;
    const before = upstream.seen.length;
    const refused = await call(url, `rebind.evil.test:${port}`);
    assert.equal(refused.status, 421);
    assert.equal(upstream.seen.length, before);
    assert.equal((await call(url, `localhost:${port}`)).grpcStatus, Code.OK);
    assert.equal((await call(url, `127.0.0.1:${port}`)).grpcStatus, Code.OK);
  });

  test("named hosts: only they are served", async () => {
    const url = await listening({ publicHosts: ["app.example"] });
    assert.equal((await call(url, "app.example")).grpcStatus, Code.OK);
    assert.equal((await call(url, `localhost:${new URL(url).port}`)).status, 421);
  });
});
