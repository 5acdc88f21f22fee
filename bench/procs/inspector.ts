// Forces a full garbage collection in another Node process through its inspector (started with
// --inspect=127.0.0.1:PORT), so memory readings show what is live rather than what awaits a GC.
import { once } from "node:events";
import { WebSocket } from "undici";

interface InspectorTarget {
  webSocketDebuggerUrl: string;
}

export async function collectGarbage(inspectPort: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
  const [target] = (await response.json()) as InspectorTarget[];
  if (!target) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  try {
    await once(socket, "open");
    const answered = once(socket, "message");
    socket.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
    await answered;
  } finally {
    socket.close();
  }
}
