import type { TestContext } from "node:test";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";
import type { CallRecord } from "../../src/greeter/observe.js";
import { startGreeterServer } from "../../src/greeter/server.js";

export interface GreeterFixture {
  url: string;
  /** A native gRPC (HTTP/2) client of the greeter. */
  client: Client<typeof Greeter>;
  /** Every call the server finished, in order. */
  records: CallRecord[];
}

/** Starts a greeter on a free loopback port for one test and stops it when the test ends. */
export async function startGreeter(t: TestContext): Promise<GreeterFixture> {
  const records: CallRecord[] = [];
  const greeter = await startGreeterServer({
    host: "127.0.0.1",
    port: 0,
    observer: (record) => records.push(record),
  });
  t.after(() => greeter.close());
  const client = createClient(Greeter, createGrpcTransport({ baseUrl: greeter.url }));
  return { url: greeter.url, client, records };
}
