import pino from "pino";

/** How long a log line may wait in the buffer on a quiet proxy. */
const FLUSH_INTERVAL_MS = 1000;

/**
 * Standard output for the CLI's logs, written in 8 KiB batches instead of one
 * synchronous write per line: with one access-log line per call, a write per
 * line cost the proxy a syscall on every call. Lines wait at most a second,
 * and whatever is buffered is written when the process exits.
 */
export function bufferedStdout(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, minLength: 8192, sync: true });
  setInterval(() => destination.flush(), FLUSH_INTERVAL_MS).unref();
  process.once("exit", () => {
    try {
      destination.flushSync();
    } catch {
      // A write still in flight at exit: what it holds is lost either way.
    }
  });
  return destination;
}
