// One small idle cycle on a running setup, checked as the bench's tests expect: every call opened end to end,
// and none left running upstream once the clients closed.
import assert from "node:assert/strict";
import { type IdleCycle, type IdlePlan, idleCycle } from "../load/idle.js";
import { rssBytes } from "../procs/usage.js";
import type { Running } from "../setups.js";

export async function checkedIdleCycle(setup: Running, open: IdlePlan["open"]): Promise<IdleCycle> {
  const front = setup.front;
  assert.ok(front);
  const cycle = await idleCycle({
    open,
    streams: 20,
    frontMemory: async () => ({ rss: rssBytes(front.pid), heap: undefined }),
    greeter: setup.greeter,
  });
  assert.equal(cycle.opened, 20);
  assert.equal(cycle.leftOpen, 0);
  return cycle;
}
