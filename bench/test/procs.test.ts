// The processes the bench starts die with it, however it ends: a bench (or a bench test) killed outright
// (SIGKILL: no cleanup runs) leaves no front or backend behind, pinned to a CPU.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { alive, dieWithTest } from "../../testing/lifeline.js";
import { waitFor } from "../../testing/net.js";
import { CpuMeter } from "../procs/usage.js";

const PINNED = new URL("../procs/pinned.ts", import.meta.url).href;
/** A stand-in for the bench: starts one pinned child the way setups.ts does, prints its pid, waits to be killed. */
const BENCH = `
  const { spawnPinned } = await import(${JSON.stringify(PINNED)});
  const child = spawnPinned(1, "procs-test", ["-e", "setInterval(() => {}, 60000)"]);
  console.log(child.pid);
  setInterval(() => {}, 60000);
`;

test("a bench killed with SIGKILL takes the processes it started with it", async () => {
  const bench = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", BENCH],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  dieWithTest(bench);
  const [line] = (await once(createInterface({ input: bench.stdout }), "line")) as [string];
  const pid = Number(line);
  assert.ok(alive(pid), "its child runs while it does");
  const exited = once(bench, "exit");
  bench.kill("SIGKILL");
  await exited;
  await waitFor(() => (alive(pid) ? undefined : true), 10_000);
});

test("the CPU meter splits a process's time into all of it and the kernel's share", () => {
  const meter = new CpuMeter(new Map([["self", process.pid]]));
  meter.start();
  // Until the process has run 300 ms of its own, not of the clock's: a busy machine deschedules it.
  const start = process.cpuUsage();
  let sum = 0;
  // Arithmetic between the reads of the process's time, which are system calls.
  while (process.cpuUsage(start).user < 300_000) for (let i = 0; i < 1e6; i++) sum += i;
  const spent = meter.stop().get("self");
  assert.ok(sum > 0 && spent);
  // A spin in JavaScript: nearly all user time.
  assert.ok(spent.us >= 300_000, `${spent.us} µs`);
  assert.ok(spent.kernelShare >= 0 && spent.kernelShare < 0.5, `kernel share ${spent.kernelShare}`);
});
