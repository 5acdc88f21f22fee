// Children started by a test die with it, however it ends: a test file killed outright (SIGKILL: no cleanup
// runs) leaves no backend behind, stopped or not.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { alive, dieWithTest } from "../../testing/lifeline.js";
import { waitFor } from "../../testing/net.js";

const MAIN = new URL("./support/lifeline-main.ts", import.meta.url).pathname;

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("a test process killed with SIGKILL takes its backends (a stopped one too) with it", async () => {
  const testProcess = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  dieWithTest(testProcess);
  const [line] = (await once(createInterface({ input: testProcess.stdout }), "line")) as [string];
  const children = JSON.parse(line) as { stopped: number; running: number; grpcioPort: number };
  assert.ok(alive(children.stopped) && alive(children.running), "its children run while it does");
  assert.equal(await accepts(children.grpcioPort), true);

  const exited = once(testProcess, "exit");
  testProcess.kill("SIGKILL");
  await exited;
  // Each death is an event (the watchdog's kill); waitFor only bounds how long that may take.
  await waitFor(() => (alive(children.stopped) ? undefined : true), 10_000);
  await waitFor(() => (alive(children.running) ? undefined : true), 10_000);
  await waitFor(async () => ((await accepts(children.grpcioPort)) ? undefined : true), 10_000);
});
