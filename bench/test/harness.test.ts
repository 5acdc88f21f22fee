// The load generators against real setups over loopback: verified calls count, wrong ones never do.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { IDLE_NAME, IDLE_REPLY, paths, streamName, streamReply, unaryReply } from "../greeter/contract.js";
import { type CallerOptions, createCaller } from "../load/callers.js";
import { idleCycle } from "../load/idle.js";
import { runStreams } from "../load/streams.js";
import { closedLoop, type UnaryPlan } from "../load/unary.js";
import { meterWindow } from "../load/window.js";
import { CpuMeter, rssBytes } from "../procs/usage.js";
import { DEFAULT_PROXY_CLI, type Running, start } from "../setups.js";
import { helloReplyPayload, helloRequestFrame } from "../wire/frames.js";

const noMeter = new CpuMeter(new Map());

function unaryPlan(expectedReply: string): UnaryPlan {
  return {
    path: paths.unary,
    requestFrame: helloRequestFrame("test"),
    expect: { payload: helloReplyPayload(expectedReply), messages: 1 },
    window: meterWindow(noMeter, 100, 400),
  };
}

async function withCaller<T>(
  options: CallerOptions,
  use: (caller: ReturnType<typeof createCaller>) => Promise<T>,
) {
  const caller = createCaller(options);
  try {
    return await use(caller);
  } finally {
    await caller.close();
  }
}

describe("bench harness", () => {
  let direct: Running;
  let native: Running;
  before(async () => {
    [direct, native] = await Promise.all([
      start("A", { backend: "connect", frontNodeFlags: [], proxyCli: DEFAULT_PROXY_CLI, proxyArgs: [] }),
      start("D", { backend: "connect", frontNodeFlags: [], proxyCli: DEFAULT_PROXY_CLI, proxyArgs: [] }),
    ]);
  });
  after(() => Promise.all([direct?.stop(), native?.stop()]));

  for (const id of ["A", "D"] as const) {
    it(`${id}: counts verified unary calls and never a wrong reply`, async () => {
      const setup = id === "A" ? direct : native;
      const options = { origin: setup.origin, protocol: setup.spec.protocol, connections: 4 };
      const good = await withCaller(options, (caller) =>
        closedLoop(caller, unaryPlan(unaryReply("test")), 4),
      );
      assert.ok(good.ok > 0, "some calls verified");
      assert.equal(good.failed, 0, good.firstFailure);
      const bad = await withCaller(options, (caller) => closedLoop(caller, unaryPlan("not the reply"), 4));
      assert.equal(bad.ok, 0);
      assert.ok(bad.failed > 0);
      assert.equal(bad.firstFailure, "reply differs from the expected one");
    });

    it(`${id}: a server stream delivers and verifies every reply`, async () => {
      const setup = id === "A" ? direct : native;
      const shape = { replies: 1000, replyBytes: 1024 };
      const result = await withCaller(
        { origin: setup.origin, protocol: setup.spec.protocol, connections: 2 },
        (caller) =>
          runStreams(
            caller,
            {
              path: paths.serverStream,
              requestFrame: helloRequestFrame(streamName(shape)),
              expect: { payload: helloReplyPayload(streamReply(shape.replyBytes)), messages: shape.replies },
              concurrency: 2,
            },
            noMeter,
          ),
      );
      assert.equal(result.firstFailure, undefined);
      assert.equal(result.messages, 2 * shape.replies);
    });
  }

  it("A: idle streams open end to end and none is left running after the clients close", async () => {
    const front = direct.front;
    assert.ok(front);
    const cycle = await idleCycle({
      origin: direct.origin,
      path: paths.serverStream,
      requestFrame: helloRequestFrame(IDLE_NAME),
      expect: { payload: helloReplyPayload(IDLE_REPLY), messages: 1 },
      streams: 20,
      frontMemory: async () => ({ rss: rssBytes(front.pid), heap: undefined }),
      greeter: direct.greeter,
    });
    assert.equal(cycle.opened, 20);
    assert.equal(cycle.leftOpen, 0);
    assert.ok(cycle.open.rss > 0);
  });
});
