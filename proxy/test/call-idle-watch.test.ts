// The idle watch on its own, with real timers: one interval for the calls of one idle limit.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { IdleWatch, type IdleWatched } from "../src/call/idle-watch.js";

/** A call of the watch's that records when it was ended; `touch` is a byte going either way. */
function watchedCall(watch: IdleWatch) {
  const started = performance.now();
  const call = {
    activeTick: watch.tick,
    endedAfterMs: undefined as number | undefined,
    idle(idleMs: number) {
      assert.equal(idleMs, watch.idleMs);
      call.endedAfterMs = performance.now() - started;
      watch.delete(call);
    },
    touch() {
      call.activeTick = watch.tick;
    },
  } satisfies IdleWatched & Record<string, unknown>;
  watch.add(call);
  return call;
}

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

describe("IdleWatch", () => {
  test("one watch per limit", () => {
    assert.equal(IdleWatch.for(1234), IdleWatch.for(1234));
    assert.notEqual(IdleWatch.for(1234), IdleWatch.for(1235));
  });

  test("a silent call ends after more than the limit, and at most an eighth more", async () => {
    const watch = IdleWatch.for(160);
    const call = watchedCall(watch);
    await sleep(150);
    assert.equal(call.endedAfterMs, undefined, "not before the limit");
    while (call.endedAfterMs === undefined) await sleep(5);
    assert.ok(call.endedAfterMs >= 160, `ended after ${call.endedAfterMs} ms`);
    // An eighth more, and what a timer may run late on a busy machine.
    assert.ok(call.endedAfterMs <= 180 + 100, `ended after ${call.endedAfterMs} ms`);
  });

  test("a call with bytes going either way runs on past the limit; once silent, it ends", async () => {
    const watch = IdleWatch.for(120);
    const lively = watchedCall(watch);
    const silent = watchedCall(watch);
    for (let i = 0; i < 20; i++) {
      await sleep(20);
      lively.touch();
    }
    assert.equal(lively.endedAfterMs, undefined, "400 ms with a byte every 20 ms");
    assert.ok(silent.endedAfterMs !== undefined && silent.endedAfterMs >= 120);
    while (lively.endedAfterMs === undefined) await sleep(5);
    assert.ok(lively.endedAfterMs >= 400 + 120);
  });

  test("with no call left its interval holds the process no longer, and stops at its next tick", async () => {
    const watch = IdleWatch.for(80);
    const before = timers();
    const call = watchedCall(watch);
    assert.equal(timers(), before + 1, "an open call keeps the process alive, as a timer per call did");
    watch.delete(call);
    assert.equal(timers(), before);
    await sleep(30);
    const tick = watch.tick;
    await sleep(60);
    assert.equal(watch.tick, tick, "no ticks without calls");
    watchedCall(watch).touch();
    assert.equal(timers(), before + 1, "a new call starts it again");
    await sleep(120);
    assert.ok(watch.tick > tick);
  });
});
