// A module worker that makes one unary and one streaming call: the client must not need `window`.
// It uses the package's own small client, so that both clients run in Chromium.
import { createGrpcWebTransport, createWebClient } from "@grpc-web-bridge/client-web";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";

export interface WorkerReport {
  unary?: string;
  stream?: string[];
  error?: string;
}

addEventListener("message", async (event: MessageEvent<{ baseUrl: string }>) => {
  const report: WorkerReport = {};
  try {
    const transport = createGrpcWebTransport({ baseUrl: event.data.baseUrl, defaultTimeoutMs: 5000 });
    const client = createWebClient(Greeter, transport);
    report.unary = (await client.sayHello({ name: "Worker" })).message;
    report.stream = [];
    for await (const reply of client.sayHelloStreamReply({ name: "Worker" }))
      report.stream.push(reply.message);
  } catch (error) {
    report.error = String(error);
  }
  postMessage(report);
});
