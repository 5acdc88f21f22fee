// SIGHUP while the CLI starts: real signals to this process, which Node would end without a handler.
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { ReloadSignal } from "../src/reload/signal.js";

/** Sends SIGHUP to this process and resolves once its handlers have run. */
async function hangUp(): Promise<void> {
  const delivered = once(process, "SIGHUP");
  // A signal's handler does not keep the event loop alive while it waits for it.
  const alive = setInterval(() => {}, 1_000);
  process.kill(process.pid, "SIGHUP");
  try {
    await delivered;
  } finally {
    clearInterval(alive);
  }
}

test("SIGHUPs before the proxy serves are held and make one reload once it does; later ones reload each", async () => {
  const signal = new ReloadSignal();
  try {
    await hangUp();
    await hangUp();
    const triggers: string[] = [];
    signal.serve((trigger) => triggers.push(trigger));
    assert.deepEqual(triggers, ["SIGHUP while starting"]);
    await hangUp();
    assert.deepEqual(triggers, ["SIGHUP while starting", "SIGHUP"]);
  } finally {
    signal.close();
  }
  assert.equal(process.listenerCount("SIGHUP"), 0);
});

test("without a SIGHUP while starting, serving reloads nothing", () => {
  const signal = new ReloadSignal();
  try {
    const triggers: string[] = [];
    signal.serve((trigger) => triggers.push(trigger));
    assert.deepEqual(triggers, []);
  } finally {
    signal.close();
  }
});
