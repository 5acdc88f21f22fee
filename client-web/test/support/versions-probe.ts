// Bundled once per connect and protobuf-es version by connect-versions.test.ts, with those versions
// in place of the installed ones: the calls a user makes, reported as plain data.
import { type Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { Greeter } from "../../src/greeter.js";
import { createGrpcWebTransport, createWebClient } from "../../src/index.js";

export interface ProbeReport {
  unary: string;
  stream: string[];
  trailer: string | null;
  smallClient: string;
  intercepted: number;
  failure: { code: Code; rawMessage: string; metadata: string | null; isConnectError: boolean };
  deadline: Code;
  cancelled: Code;
}

export async function probe(baseUrl: string): Promise<ProbeReport> {
  let intercepted = 0;
  const count: Interceptor = (next) => (req) => {
    intercepted++;
    return next(req);
  };
  const transport = createGrpcWebTransport({ baseUrl, interceptors: [count], defaultTimeoutMs: 5000 });
  const client = createClient(Greeter, transport);
  let trailer: Headers | undefined;
  const unary = (await client.sayHello({ name: "v" }, { onTrailer: (t) => (trailer = t) })).message;
  const stream: string[] = [];
  for await (const reply of client.sayHelloStreamReply({ name: "v" })) stream.push(reply.message);
  const smallClient = (await createWebClient(Greeter, transport).sayHello({ name: "w" })).message;
  const failed = await client
    .sayHello({ name: "v" }, { headers: { "x-fail-code": "7", "x-fail-message": "no", "x-echo-k": "v" } })
    .catch((error: unknown) => error);
  const failure = ConnectError.from(failed);
  const deadline = await client
    .sayHello({ name: "v" }, { timeoutMs: 100, headers: { "x-sleep-ms": "2000" } })
    .catch((error: unknown) => ConnectError.from(error).code);
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 100);
  const cancelled = await client
    .sayHello({ name: "v" }, { signal: abort.signal, headers: { "x-sleep-ms": "2000" } })
    .catch((error: unknown) => ConnectError.from(error).code);
  return {
    unary,
    stream,
    trailer: trailer?.get("grpc-status") ?? null,
    smallClient,
    intercepted,
    failure: {
      code: failure.code,
      rawMessage: failure.rawMessage,
      metadata: failure.metadata.get("x-echo-k"),
      isConnectError: failed instanceof ConnectError,
    },
    deadline: deadline as Code,
    cancelled: cancelled as Code,
  };
}
