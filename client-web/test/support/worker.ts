// A module worker that makes one unary and one streaming call: the client must not need `window`.
import { createGreeterClient } from "@grpc-web-bridge/client-web";

export interface WorkerReport {
  unary?: string;
  stream?: string[];
  error?: string;
}

addEventListener("message", async (event: MessageEvent<{ baseUrl: string }>) => {
  const report: WorkerReport = {};
  try {
    const client = createGreeterClient({ baseUrl: event.data.baseUrl, timeoutMs: 5000 });
    report.unary = (await client.sayHello({ name: "Worker" })).message;
    report.stream = [];
    for await (const reply of client.sayHelloStreamReply({ name: "Worker" }))
      report.stream.push(reply.message);
  } catch (error) {
    report.error = String(error);
  }
  postMessage(report);
});
