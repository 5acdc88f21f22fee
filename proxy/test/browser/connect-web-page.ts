// Page script: calls the Greeter through the proxy with @connectrpc/connect-web's gRPC-Web transport.
import { type CallOptions, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";
import type { CallOutcome, CallRequest, PageGlobals } from "./page-api.js";

async function call(request: CallRequest): Promise<CallOutcome> {
  const outcome: CallOutcome = { replies: [], headers: {}, trailers: {} };
  const transport = createGrpcWebTransport({
    baseUrl: request.proxyUrl,
    useBinaryFormat: request.format === "binary",
  });
  const client = createClient(Greeter, transport);
  const options: CallOptions = {
    headers: request.metadata,
    timeoutMs: request.timeoutMs,
    onHeader: (headers) => (outcome.headers = Object.fromEntries(headers)),
    onTrailer: (trailers) => (outcome.trailers = Object.fromEntries(trailers)),
  };
  const received = (message: string) => outcome.replies.push({ message, at: performance.now() });
  try {
    if (request.method === "SayHello") {
      received((await client.sayHello({ name: request.name }, options)).message);
    } else {
      for await (const reply of client.sayHelloStreamReply({ name: request.name }, options)) {
        received(reply.message);
      }
    }
  } catch (thrown) {
    const error = ConnectError.from(thrown);
    outcome.error = { code: error.code, message: error.rawMessage };
    outcome.trailers = Object.fromEntries(error.metadata);
  }
  return outcome;
}

const globals: PageGlobals = { interop: { call } };
Object.assign(globalThis, globals);
