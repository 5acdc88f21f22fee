// The client side of ops-metrics-bounds.test.ts: gRPC-Web calls to made-up methods over a few HTTP/2
// connections. Run in worker threads, so that the calls are made beside the proxy, not in its turn.
import http2 from "node:http2";
import { parentPort, workerData } from "node:worker_threads";
import { h2WebCall } from "./h2-web-call.js";

/** Every tenth call reaches the backend (the costly kind); the others are refused by an interceptor or unrouted. */
export type Kind = "forwarded" | "refused" | "unrouted";

export interface HostileCalls {
  readonly url: string;
  readonly ca: string;
  /** This worker makes the calls i = first, first + step, … below calls. */
  readonly first: number;
  readonly step: number;
  readonly calls: number;
  readonly sessions: number;
  /** Each session's calls in flight. */
  readonly inFlight: number;
}

/** Past the metrics' label cap, and long enough that a series of each would be megabytes. */
export const NAME_CHARS = 150;

export function kindOf(i: number): Kind {
  if (i % 10 === 0) return "forwarded";
  return i % 2 === 0 ? "refused" : "unrouted";
}

/** Call `i` in text mode or binary. */
export const isText = (i: number): boolean => i % 3 === 0;

/** A distinct name of NAME_CHARS characters for call `i`, valid in a method path. */
function name(i: number): string {
  return `x${i.toString(36).padStart(NAME_CHARS - 1, "q")}`;
}

const PATHS: Record<Kind, (i: number) => string> = {
  forwarded: (i) => `/hostile.${name(i)}/${name(i)}`,
  refused: (i) => `/hostile.${name(i)}/${name(i)}`,
  unrouted: (i) => `/elsewhere.${name(i)}/${name(i)}`,
};

/** Makes the calls; resolves to how many ended with each `kind mode grpc-status`. */
export async function makeHostileCalls(plan: HostileCalls): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  let next = plan.first;
  const drive = async (session: http2.ClientHttp2Session) => {
    while (next < plan.calls) {
      const i = next;
      next += plan.step;
      const kind = kindOf(i);
      const text = isText(i);
      const result = await h2WebCall(session, PATHS[kind](i), {
        ...(!text && { message: new Uint8Array() }),
        headers: {
          ...(kind === "refused" && { "x-refuse": "1" }),
          ...(text && { "content-type": "application/grpc-web-text" }),
        },
      });
      const key = `${kind} ${text ? "text" : "binary"} ${result.grpcStatus}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  };
  const sessions = Array.from({ length: plan.sessions }, () =>
    http2.connect(plan.url.replace("http:", "https:"), { ca: plan.ca }),
  );
  try {
    await Promise.all(
      sessions.flatMap((session) => Array.from({ length: plan.inFlight }, () => drive(session))),
    );
  } finally {
    for (const session of sessions) session.close();
  }
  return seen;
}

if (parentPort && (workerData as { hostileCalls?: HostileCalls })?.hostileCalls) {
  const port = parentPort;
  void makeHostileCalls((workerData as { hostileCalls: HostileCalls }).hostileCalls).then(
    (seen) => port.postMessage([...seen]),
    (error: unknown) => port.postMessage({ error: String(error) }),
  );
}
