// Children a test starts (backends, the CLI) must not outlive it, however it ends: a test file killed by the
// runner's timeout or by hand gets no chance to run its cleanups, and a backend left behind holds its port and
// its CPU for the rest of the suite.
import { type ChildProcess, spawn } from "node:child_process";

/**
 * Kills `child` with SIGKILL as soon as this process is gone, by any death, SIGKILL included.
 *
 * A watchdog shell holds the read end of a pipe whose only write end is this process's: the kernel closes
 * it when this process dies, `read` returns, and the watchdog kills the child. SIGKILL, because the child may
 * be stopped (a test SIGSTOPs backends to make them hang), and a stopped process acts on no other signal.
 * The watchdog, not the child, watches the pipe, so that this works for any program (the CLI, Python)
 * without its cooperation. The watchdog ends with the child, and keeps neither process's event loop alive.
 */
export function dieWithTest(child: ChildProcess): void {
  if (child.pid === undefined) return; // it failed to start: its 'error' event says why
  const watchdog = spawn(
    "/bin/sh",
    ["-c", 'read -r _; kill -KILL "$1" 2>/dev/null', "watchdog", String(child.pid)],
    {
      stdio: ["pipe", "ignore", "ignore"],
    },
  );
  watchdog.once("error", () => {}); // no /bin/sh: nothing to watch with, and nothing worse than before
  watchdog.unref();
  // @types/node has no unref() on a pipe's stream, but it is a net.Socket.
  (watchdog.stdin as unknown as { unref(): void }).unref();
  watchdog.stdin?.once("error", () => {});
  // Once the child has exited, its pid may be reused: the watchdog must go before it could kill a stranger.
  child.once("exit", () => watchdog.kill("SIGKILL"));
}

/** Whether the process `pid` still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
