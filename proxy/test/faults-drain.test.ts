// A drain whose grace period is longer than a Node timer can wait.
import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { startProxiedBackend } from "./support/proxied-backend.js";

test("a grace period of 30 days (beyond a timer's 2^31-1 ms) still lets the call in flight finish", async (t) => {
  const { backend, proxy, ops, close } = await startProxiedBackend("connect-node");
  t.after(close);
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
