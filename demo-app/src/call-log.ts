import { codeName } from "@grpc-web-bridge/client-web";
import type { CallRecord } from "./greeter/observe.js";

/** One line per finished call, so the terminal shows cancellations and deadlines reaching the backend. */
export function formatCall(record: CallRecord): string {
  const replies = `${record.replies} ${record.replies === 1 ? "reply" : "replies"}`;
  return `greeter: ${record.method} → ${codeName(record.code ?? 0)} after ${replies}`;
}
