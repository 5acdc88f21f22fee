import { Code, ConnectError } from "@connectrpc/connect";

export interface CallSignal {
  /** Aborted by the caller's signal (CANCELLED), by the deadline (DEADLINE_EXCEEDED) or by `end`. */
  readonly signal: AbortSignal;
  /** The error to report for a call that failed with `reason`: once aborted, the abort's reason. Ends the call. */
  fail(reason: unknown): ConnectError;
  /** Ends the call: aborts what is still running (with `reason`, if given), stops the timer, lets go of the caller's signal. */
  end(reason?: ConnectError): void;
}

/**
 * The one signal a call runs under, from the caller's signal and the deadline. The transport owns it,
 * so that a stream its reader stops early is cancelled and nothing outlives the call.
 */
export function createCallSignal(
  callerSignal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): CallSignal {
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(ConnectError.from(callerSignal?.reason, Code.Canceled));
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new ConnectError(`the deadline of ${timeoutMs} ms passed`, Code.DeadlineExceeded),
            ),
          timeoutMs,
        );
  if (callerSignal?.aborted) onCallerAbort();
  callerSignal?.addEventListener("abort", onCallerAbort);
  const end = (reason?: ConnectError) => {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
    controller.abort(reason);
  };
  return {
    signal: controller.signal,
    fail(reason) {
      const error = ConnectError.from(controller.signal.aborted ? controller.signal.reason : reason);
      end(error);
      return error;
    },
    end,
  };
}
