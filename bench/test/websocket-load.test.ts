// The WebSocket load generator against setup C (the proxy's CLI over the bench Greeter): verified calls count,
// wrong ones never do; idle calls open and are all cancelled upstream once closed. Needs the built CLI (`npm run build`), as the bench does.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { paths, unaryReply } from "../greeter/contract.js";
import {
  clientStreamPlan,
  openIdleWebSocketCalls,
  runWebSocketCalls,
  serverStreamPlan,
  type WebSocketPlan,
} from "../load/websocket.js";
import { CpuMeter } from "../procs/usage.js";
import { DEFAULT_PROXY_CLI, type Running, start } from "../setups.js";
import { helloReplyPayload, helloRequestFrame } from "../wire/frames.js";
import { checkedIdleCycle } from "./idle-check.js";

const noMeter = new CpuMeter(new Map());

describe("WebSocket load on setup C", () => {
  let setup: Running;
  before(async () => {
    // `npm install` builds it; a checkout built by hand may not have.
    assert.ok(existsSync(DEFAULT_PROXY_CLI), `${DEFAULT_PROXY_CLI} is missing: run npm run build`);
    setup = await start("C", {
      backend: "connect",
      frontNodeFlags: [],
      proxyCli: DEFAULT_PROXY_CLI,
      proxyArgs: [],
    });
  });
  after(() => setup?.stop());

  const pingPong = (reply: string): WebSocketPlan => ({
    path: paths.bidiStream,
    requestFrame: helloRequestFrame("test"),
    expect: { payload: helloReplyPayload(reply), messages: 50 },
    concurrency: 3,
    requests: 50,
    sending: "ping-pong",
  });

  it("ping-pong bidi calls: every round trip verified, and a wrong reply never counts", async () => {
    const good = await runWebSocketCalls(setup.origin, pingPong(unaryReply("test")), noMeter);
    assert.equal(good.firstFailure, undefined);
    assert.equal(good.messages, 150);
    const bad = await runWebSocketCalls(setup.origin, pingPong("not the reply"), noMeter);
    assert.equal(bad.messages, 0);
    assert.equal(bad.failed, 3);
    assert.equal(bad.firstFailure, "reply differs from the expected one");
  });

  it("a server stream over WebSocket delivers and verifies every reply", async () => {
    const shape = { replies: 1000, replyBytes: 1024 };
    const result = await runWebSocketCalls(setup.origin, serverStreamPlan(shape, 2), noMeter);
    assert.equal(result.firstFailure, undefined);
    assert.equal(result.messages, 2 * shape.replies);
  });

  it("a one-way client stream: every request counted by the backend, one reply at its end", async () => {
    const requests = 5000;
    const result = await runWebSocketCalls(setup.origin, clientStreamPlan(requests, 1024, 2), noMeter);
    assert.equal(result.firstFailure, undefined);
    assert.equal(result.messages, 2);
  });

  it("idle WebSocket calls open end to end, and none is left running after the clients close", async () => {
    await checkedIdleCycle(setup, openIdleWebSocketCalls(setup.origin));
  });
});
