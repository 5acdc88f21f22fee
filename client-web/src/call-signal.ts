import { createDeadlineSignal, createLinkedAbortController } from "@connectrpc/connect/protocol";

export interface CallSignal {
  /** Aborted by the caller's signal, by the deadline (DEADLINE_EXCEEDED) or by `cancel`. */
  readonly signal: AbortSignal;
  cancel(reason: unknown): void;
  /** Stops the deadline timer; call it once the call has settled. */
  release(): void;
}

/**
 * The one signal a call runs under. The client owns it rather than connect's call runner, so that
 * a stream the caller stops reading can be cancelled and its timer released.
 */
export function createCallSignal(
  callerSignal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): CallSignal {
  const deadline = createDeadlineSignal(timeoutMs);
  const controller = createLinkedAbortController(callerSignal, deadline.signal);
  return {
    signal: controller.signal,
    cancel: (reason) => controller.abort(reason),
    release: deadline.cleanup,
  };
}
