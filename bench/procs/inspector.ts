// Talks to another Node process through its inspector (started with --inspect=127.0.0.1:PORT):
// forces a full garbage collection, so memory readings show what is live rather than what awaits
// a GC, and reads the JS heap's size.
import { once } from "node:events";
import { WebSocket } from "undici";

interface InspectorTarget {
  webSocketDebuggerUrl: string;
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
}

/** Collects garbage, then returns the bytes the JS heap still uses. */
export async function collectGarbage(inspectPort: number): Promise<number> {
  await call(inspectPort, "HeapProfiler.collectGarbage");
  return ((await call(inspectPort, "Runtime.getHeapUsage")) as HeapUsage).usedSize;
}

async function call(inspectPort: number, method: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
  const [target] = (await response.json()) as InspectorTarget[];
  if (!target) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  try {
    await once(socket, "open");
    const answered = once(socket, "message");
    socket.send(JSON.stringify({ id: 1, method }));
    const [event] = (await answered) as [{ data: string }];
    return (JSON.parse(event.data) as { result: unknown }).result;
  } finally {
    socket.close();
  }
}
