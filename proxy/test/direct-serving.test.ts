// buildServer serves gRPC-Web POSTs below Fastify's router: the calls are the same, and a request hook added to
// its app still runs for every call (the app then routes them as before), so nothing a user adds is skipped.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import type { FastifyInstance } from "fastify";
import { buildServer, Code } from "../src/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { TEST_PUBLIC_HOSTS } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const hello = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "Ada" }));

async function listening(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (typeof address !== "object" || !address) throw new Error("proxy did not bind");
  return `http://127.0.0.1:${address.port}`;
}

describe("gRPC-Web POSTs below Fastify's router", () => {
  let backend: Backend;
  before(async () => {
    backend = await startBackend("connect-node");
  });
  after(async () => {
    await backend?.close();
  });

  test("a request hook added to buildServer's app runs for every call, and sees Fastify's request", async () => {
    const app = await buildServer({ logger: false, upstream: backend.url, publicHosts: TEST_PUBLIC_HOSTS });
    const seen: string[] = [];
    app.addHook("onRequest", async (request) => {
      seen.push(`${request.method} ${request.routeOptions.url}`);
    });
    try {
      const url = await listening(app);
      const ok = await grpcWebCall(url, SAY_HELLO, { message: hello });
      assert.equal(ok.grpcStatus, Code.OK);
      const refused = await grpcWebCall(url, "/helloworld.Greeter/NoSuchMethod", { message: hello });
      assert.equal(refused.grpcStatus, Code.UNIMPLEMENTED);
      assert.deepEqual(seen, ["POST /:service/:method", "POST /:service/:method"]);
    } finally {
      await app.close();
    }
  });

  test("without hooks, the calls and their answers are the same: a reply, a refused path, a 404", async () => {
    const app = await buildServer({ logger: false, upstream: backend.url, publicHosts: TEST_PUBLIC_HOSTS });
    try {
      const url = await listening(app);
      const ok = await grpcWebCall(url, SAY_HELLO, { message: hello });
      assert.equal(ok.status, 200);
      assert.equal(ok.grpcStatus, Code.OK);
      const notGrpc = await grpcWebCall(url, "/3d.Greeter/SayHello", { message: hello });
      assert.equal(notGrpc.grpcStatus, Code.UNIMPLEMENTED, "a path the call refuses, as Fastify's route did");
      const elsewhere = await fetch(`${url}/a/b/c`, { method: "POST", body: "x" });
      assert.equal(elsewhere.status, 404, "a path Fastify does not route to the proxy");
      await elsewhere.body?.cancel();
    } finally {
      await app.close();
    }
  });
});
