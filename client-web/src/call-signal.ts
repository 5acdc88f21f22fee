import { type Code, ConnectError } from "@connectrpc/connect";

/**
 * The one signal a call runs under: aborted by the caller's signal (CANCELLED), by the deadline
 * (DEADLINE_EXCEEDED), or by the transport when the call ends. The transport owns it, so that a stream
 * its reader stops early is cancelled and nothing outlives the call: aborting it stops the timer and
 * lets go of the caller's signal. `timeoutMs` is a resolved deadline (`resolveTimeoutMs`): positive, or
 * none.
 */
export function createCallSignal(callerSignal: AbortSignal | undefined, timeoutMs: number | undefined) {
  const running = new AbortController();
  const { signal } = running;
  const timer =
    timeoutMs &&
    setTimeout(
      () =>
        running.abort(
          new ConnectError(`the deadline of ${timeoutMs} ms passed`, 4 satisfies Code.DeadlineExceeded),
        ),
      timeoutMs,
    );
  signal.addEventListener("abort", () => clearTimeout(timer));
  const onCallerAbort = () =>
    running.abort(ConnectError.from(callerSignal?.reason, 1 satisfies Code.Canceled));
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { signal });
  return running;
}

/** The error to report for a call that failed with `reason`: once aborted, the abort's reason. Ends the call. */
export function callError(running: AbortController, reason: unknown): ConnectError {
  const error = ConnectError.from(running.signal.aborted ? running.signal.reason : reason);
  running.abort(error);
  return error;
}
