// /healthz and /readyz on the admin listener, against real backends going down and coming back.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { waitFor } from "../../testing/net.js";
import type { LivenessReport, ReadinessReport } from "../src/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { getJson, type ObservedProxy, sample, scrape, startObservedProxy } from "./support/ops-admin.js";
import { type HealthBackend, startHealthBackend } from "./support/ops-health-backend.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const hello = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "Ada" }));

const readiness = (proxy: ObservedProxy) => getJson<ReadinessReport>(proxy.adminUrl, "/readyz");

/** Polls /readyz until it answers `status`; returns that answer. */
function readinessBecomes(proxy: ObservedProxy, status: number) {
  return waitFor(async () => {
    const answer = await readiness(proxy);
    return answer.status === status ? answer : undefined;
  });
}

/** A backend and an observed proxy in front of it, for the tests of the describe that calls this. */
function backendAndProxy(): { backend: Backend; proxy: ObservedProxy } {
  const running = {} as { backend: Backend; proxy: ObservedProxy };
  before(async () => {
    running.backend = await startBackend("connect-node");
    running.proxy = await startObservedProxy(running.backend.url);
  });
  after(async () => {
    await running.proxy?.close();
    await running.backend?.close();
  });
  return running;
}

describe("/healthz and /readyz", () => {
  const running = backendAndProxy();

  test("liveness: 200 with each upstream described, without connecting to it", async () => {
    const { backend, proxy } = running;
    const { status, body } = await getJson<LivenessReport>(proxy.adminUrl, "/healthz");
    assert.equal(status, 200);
    assert.deepEqual(body, {
      status: "serving",
      draining: false,
      upstreams: [
        {
          address: new URL(backend.url).host,
          connected: false,
          sessions: { connecting: 0, connected: 0, retiring: 0 },
          activeStreams: 0,
        },
      ],
    });
  });

  test("readiness connects to the upstream, and flips when the backend goes down and comes back", async () => {
    const { backend, proxy } = running;
    const up = await readiness(proxy);
    assert.equal(up.status, 200);
    assert.equal(up.body.ready, true);
    assert.deepEqual(
      up.body.upstreams.map(({ address, ready, connected }) => ({ address, ready, connected })),
      [{ address: new URL(backend.url).host, ready: true, connected: true }],
    );

    await backend.close();
    const down = await readinessBecomes(proxy, 503);
    assert.equal(down.body.ready, false);
    assert.equal(down.body.upstreams[0]?.connected, false);
    assert.match(down.body.upstreams[0]?.reason ?? "", /cannot connect to 127\.0\.0\.1:\d+/);
    assert.equal((await getJson(proxy.adminUrl, "/healthz")).status, 200, "still alive");

    running.backend = await startBackend("connect-node", backend.port);
    const back = await readinessBecomes(proxy, 200);
    assert.equal(back.body.upstreams[0]?.connected, true);
    const call = await grpcWebCall(proxy.url, SAY_HELLO, { message: hello });
    assert.equal(call.grpcStatus, 0);
  });
});

describe("/readyz with a grpc.health.v1 check", () => {
  let healthBackend: HealthBackend;
  const proxies: ObservedProxy[] = [];
  const proxyChecking = async (service: string) => {
    const proxy = await startObservedProxy(healthBackend.url, { healthCheckService: service });
    proxies.push(proxy);
    return proxy;
  };
  before(async () => {
    healthBackend = await startHealthBackend({ "": "SERVING", "helloworld.Greeter": "NOT_SERVING" });
  });
  after(async () => {
    for (const proxy of proxies) await proxy.close();
    await healthBackend?.close();
  });

  test("SERVING for the whole server is ready", async () => {
    const { status, body } = await readiness(await proxyChecking(""));
    assert.equal(status, 200);
    assert.deepEqual(body.upstreams[0]?.healthCheck, { service: "", status: "SERVING" });
  });

  test("a service that is NOT_SERVING is not ready, until it serves", async () => {
    const proxy = await proxyChecking("helloworld.Greeter");
    const { status, body } = await readiness(proxy);
    assert.equal(status, 503);
    assert.deepEqual(body.upstreams[0]?.healthCheck, {
      service: "helloworld.Greeter",
      status: "NOT_SERVING",
    });
    assert.match(body.upstreams[0]?.reason ?? "", /NOT_SERVING/);
    healthBackend.statuses.set("helloworld.Greeter", "SERVING");
    assert.equal((await readiness(proxy)).status, 200);
  });

  test("a service the health service does not know is not ready, with the backend's error", async () => {
    const { status, body } = await readiness(await proxyChecking("no.Such"));
    assert.equal(status, 503);
    assert.match(body.upstreams[0]?.reason ?? "", /NOT_FOUND: unknown service/);
  });
});

describe("while draining", () => {
  const running = backendAndProxy();

  test("readiness fails, liveness holds, and new calls are refused with UNAVAILABLE", async () => {
    const { backend, proxy } = running;
    assert.equal((await readiness(proxy)).status, 200);
    assert.equal(await proxy.ops.drain(1000), 0, "no call was in flight");
    const { status, body } = await readiness(proxy);
    assert.equal(status, 503);
    assert.equal(body.draining, true);
    assert.equal(body.upstreams[0]?.reason, "draining");
    const live = await getJson<LivenessReport>(proxy.adminUrl, "/healthz");
    assert.equal(live.status, 200);
    assert.equal(live.body.draining, true);

    const call = await grpcWebCall(proxy.url, SAY_HELLO, { message: hello });
    assert.equal(call.grpcStatus, 14);
    assert.equal(call.grpcMessage, "the proxy is shutting down");
    assert.equal(call.headers.connection, "close");
    assert.equal(backend.observations.length, 0, "the backend never saw it");
    const metrics = await scrape(proxy.adminUrl);
    assert.equal(metrics.get(sample("grpc_web_bridge_rejected_requests_total", { reason: "draining" })), 1);
  });
});
