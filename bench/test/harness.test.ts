// The load generators against real setups over loopback: verified calls count, wrong ones never do.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { paths, streamName, streamReply, unaryReply } from "../greeter/contract.js";
import { type CallerOptions, createCaller } from "../load/callers.js";
import { openIdleStreams } from "../load/idle.js";
import { runStreams } from "../load/streams.js";
import { closedLoop, type UnaryPlan } from "../load/unary.js";
import { meterWindow } from "../load/window.js";
import { CpuMeter } from "../procs/usage.js";
import { DEFAULT_PROXY_CLI, type Running, type StartOptions, start } from "../setups.js";
import { helloReplyPayload, helloRequestFrame } from "../wire/frames.js";
import { checkedIdleCycle } from "./idle-check.js";

const noMeter = new CpuMeter(new Map());

function unaryPlan(expectedReply: string): UnaryPlan {
  return {
    path: paths.unary,
    requestFrame: helloRequestFrame("test"),
    expect: { payload: helloReplyPayload(expectedReply), messages: 1 },
    // Wide enough that a setup still cold on a busy machine verifies some calls inside it.
    window: meterWindow(noMeter, 500, 1000),
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

/** Runs `streams` server streams of 1,000 × 1 KiB on `setup` and checks every reply arrived verified. */
async function verifiedStreams(setup: Running, { streams, text }: { streams: number; text: boolean }) {
  const shape = { replies: 1000, replyBytes: 1024 };
  const result = await withCaller(
    { origin: setup.origin, protocol: setup.spec.protocol, connections: streams, text },
    (caller) =>
      runStreams(
        caller,
        {
          path: paths.serverStream,
          requestFrame: helloRequestFrame(streamName(shape)),
          expect: { payload: helloReplyPayload(streamReply(shape.replyBytes)), messages: shape.replies },
          concurrency: streams,
        },
        noMeter,
      ),
  );
  assert.equal(result.firstFailure, undefined);
  assert.equal(result.messages, streams * shape.replies);
}

describe("bench harness", () => {
  const ids = ["A", "R", "D"] as const;
  const running = new Map<(typeof ids)[number], Running>();
  before(async () => {
    const options: StartOptions = {
      backend: "connect",
      frontNodeFlags: [],
      proxyCli: DEFAULT_PROXY_CLI,
      proxyArgs: [],
    };
    await Promise.all(ids.map(async (id) => running.set(id, await start(id, options))));
  });
  after(() => Promise.all([...running.values()].map((setup) => setup.stop())));
  const setupOf = (id: (typeof ids)[number]): Running => {
    const setup = running.get(id);
    assert.ok(setup, `setup ${id} started`);
    return setup;
  };

  for (const id of ids) {
    it(`${id}: counts verified unary calls and never a wrong reply`, async () => {
      const setup = setupOf(id);
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
      await verifiedStreams(setupOf(id), { streams: 2, text: false });
    });
  }

  it("R: a grpc-web-text stream delivers and verifies every reply", async () => {
    await verifiedStreams(setupOf("R"), { streams: 1, text: true });
  });

  for (const id of ["A", "R"] as const) {
    it(`${id}: idle streams open end to end and none is left running after the clients close`, async () => {
      const setup = setupOf(id);
      const cycle = await checkedIdleCycle(setup, openIdleStreams(setup.origin));
      assert.ok(cycle.open.rss > 0);
    });
  }
});
