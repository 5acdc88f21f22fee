import cluster, { type Worker } from "node:cluster";

/** How long after the drain timeout the primary waits for a worker before killing it. */
const KILL_GRACE_MS = 5_000;
/** A worker that dies while serving is replaced after this, so a crash loop cannot spin the CPU. */
const RESTART_DELAY_MS = 1_000;

export interface SupervisorOptions {
  readonly workers: number;
  /** The workers' own drain timeout: after it (and a grace period) a worker still alive is killed. */
  readonly drainTimeoutMs: number;
}

/**
 * The primary of `--workers N`: forks N copies of this CLI, which share the
 * listening ports (node:cluster hands connections out in turn), and serves
 * nothing itself. A worker that dies while serving is replaced; one that dies
 * before it ever listened (a port in use, a bad certificate) stops the whole
 * proxy, since its siblings would fail alike. SIGTERM is passed to every worker,
 * which drains as a single process does; the primary exits when they all have.
 * SIGINT is not passed on: a terminal's Ctrl-C reaches every process already. SIGHUP is, and each worker
 * reloads its configuration; a worker still starting gets it once it listens.
 */
export function superviseWorkers({ workers, drainTimeoutMs }: SupervisorOptions): void {
  let stopping = false;
  let exitCode = 0;
  const listening = new WeakSet<Worker>();
  /** Workers sent a SIGHUP before they listened: it waits until they do, since until then it would end them. */
  const hungUp = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork();
    worker.once("listening", () => {
      listening.add(worker);
      if (hungUp.delete(worker)) worker.process.kill("SIGHUP");
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const how = signal ?? `code ${code}`;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    if (!listening.has(worker)) {
      log(50, `worker ${worker.process.pid} exited (${how}) before it served; stopping`);
      stop(1);
      return;
    }
    log(50, `worker ${worker.process.pid} exited (${how}); starting another`);
    setTimeout(fork, RESTART_DELAY_MS);
  });

  const stop = (code: number) => {
    stopping = true;
    exitCode = code;
    const alive = Object.values(cluster.workers ?? {});
    if (alive.length === 0) process.exit(exitCode);
    for (const worker of alive) worker?.process.kill("SIGTERM");
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
    }, drainTimeoutMs + KILL_GRACE_MS).unref();
  };

  process.on("SIGTERM", () => {
    if (stopping) return;
    log(30, "SIGTERM: passing it to every worker, which drain and exit");
    stop(0);
  });
  process.on("SIGINT", () => {
    stopping = true;
  });
  process.on("SIGHUP", () => {
    if (stopping) return;
    log(30, "SIGHUP: passing it to every worker, which reload the configuration");
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker) continue;
      if (listening.has(worker)) worker.process.kill("SIGHUP");
      else hungUp.add(worker);
    }
  });

  log(30, `starting ${workers} workers sharing the ports`);
  for (let i = 0; i < workers; i++) fork();
}

/** A log line shaped like the workers' (pino's JSON), so one log pipeline reads both. */
function log(level: 30 | 50, msg: string): void {
  process.stdout.write(
    `${JSON.stringify({ level, time: Date.now(), pid: process.pid, role: "primary", msg })}\n`,
  );
}
