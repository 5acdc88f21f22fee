// A drain whose grace period is longer than a Node timer can wait.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ProxyOps } from "../src/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

let backend: Backend;
let proxy: RunningProxy;
const ops = new ProxyOps({ processMetrics: false });
before(async () => {
  backend = await startBackend("connect-node");
  proxy = await startProxy(backend.url, { ops });
});
after(async () => {
  await proxy?.close();
  await backend?.close();
});

test("a grace period of 30 days (beyond a timer's 2^31-1 ms) still lets the call in flight finish", async () => {
  const call = grpcWebCall(proxy.url, "/helloworld.Greeter/SayHello", {
    message: helloRequest("Ada"),
    headers: { "x-sleep-ms": "200" },
  });
  await backend.waitFor((o) => o.event === "started");
  // setTimeout takes a longer delay as 1 ms, which ended every call at once with UNAVAILABLE.
  assert.equal(await ops.drain(30 * 24 * 3_600_000), 0, "no call had to be ended");
  const result = await call;
  assert.equal(result.grpcStatus, 0, result.grpcMessage);
  assert.deepEqual(helloReplies(result.messages), ["Hello, Ada!"]);
});
