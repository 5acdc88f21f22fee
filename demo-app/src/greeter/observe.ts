import { type Code, ConnectError, type HandlerContext } from "@connectrpc/connect";

/** What one finished call did: the server log prints it, tests assert on it. */
export interface CallRecord {
  method: string;
  replies: number;
  /** Undefined when the call succeeded. */
  code: Code | undefined;
}

export type CallObserver = (record: CallRecord) => void;

/** Passes `replies` through and reports, once the call is over, how many were handed out and how it ended. */
export async function* observeReplies<T>(
  method: string,
  context: HandlerContext,
  observer: CallObserver,
  replies: AsyncIterable<T>,
): AsyncGenerator<T> {
  let handedOut = 0;
  let failure: unknown;
  try {
    for await (const reply of replies) {
      handedOut++;
      yield reply;
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    observer({ method, replies: handedOut, code: outcome(context.signal, failure) });
  }
}

export async function observeReply<T>(
  method: string,
  context: HandlerContext,
  observer: CallObserver,
  reply: () => T,
): Promise<T> {
  try {
    const value = reply();
    observer({ method, replies: 1, code: undefined });
    return value;
  } catch (error) {
    observer({ method, replies: 0, code: outcome(context.signal, error) });
    throw error;
  }
}

// A call cut short by the client (cancel, deadline) ends the way its signal says, whatever the
// handler threw on the way out; a call that was not cut short ends with its own error, if any.
function outcome(signal: AbortSignal, failure: unknown): Code | undefined {
  if (signal.aborted) return ConnectError.from(signal.reason).code;
  return failure === undefined ? undefined : ConnectError.from(failure).code;
}
