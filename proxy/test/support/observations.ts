// What a test backend saw of each call, for tests to assert on (did the cancel reach the backend?).
import { waitFor } from "../../../testing/net.js";
import { GreeterFailure } from "./greetings.js";
import { printableMetadata, type RequestMetadata } from "./request-metadata.js";

export interface Observation {
  method: string;
  /** "cancelled": the backend saw the client reset the stream, or the call's deadline pass. */
  event: "started" | "finished" | "cancelled";
  /** Request metadata; `-bin` values as base64. Includes the raw grpc-timeout only on connect-node. */
  metadata: Record<string, string>;
  /**
   * The time left before the call's deadline when it started, as the backend computed it from
   * grpc-timeout; absent without a deadline. grpc-js and grpcio hide the raw header, so this is the
   * one deadline figure every backend has.
   */
  timeoutMs?: number;
}

export type CallEnd = "finished" | "cancelled";

export class ObservationLog {
  readonly observations: Observation[] = [];
  /**
   * The :path of every request that reached the server, before any gRPC handling: a call its framework refuses
   * (an unknown method, a missing message) is seen here and nowhere else. Only connect-node's server shows them;
   * grpc-js and grpcio keep their transport to themselves.
   */
  readonly requests: string[] = [];

  record(observation: Observation): void {
    this.observations.push(observation);
  }

  waitFor(predicate: (o: Observation) => boolean, timeoutMs = 5000): Promise<Observation> {
    return waitFor(() => this.observations.find(predicate), timeoutMs);
  }

  /** Records "started" and returns the function that records the call's one end; later calls are ignored. */
  begin(method: string, metadata: RequestMetadata, timeoutMs: number | undefined): (end: CallEnd) => void {
    const seen = {
      method,
      metadata: printableMetadata(metadata),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
    this.record({ ...seen, event: "started" });
    let ended = false;
    return (event) => {
      if (ended) return;
      ended = true;
      this.record({ ...seen, event });
    };
  }
}

/**
 * Passes `replies` through and records how the call ended: "finished" when they ran to their planned
 * end (a planned failure too), "cancelled" when the signal stopped them or the consumer gave up.
 */
export async function* observed<T>(
  end: (event: CallEnd) => void,
  replies: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  try {
    yield* replies;
    end("finished");
  } catch (error) {
    end(endOf(error, signal));
    throw error;
  } finally {
    end("cancelled");
  }
}

/** `observed` for a single reply. */
export async function observedReply<T>(
  end: (event: CallEnd) => void,
  reply: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  try {
    const value = await reply;
    end("finished");
    return value;
  } catch (error) {
    end(endOf(error, signal));
    throw error;
  }
}

function endOf(error: unknown, signal: AbortSignal): CallEnd {
  return error instanceof GreeterFailure || !signal.aborted ? "finished" : "cancelled";
}
