// ProxyOps.reload in a host app of one's own: new plugin options serve the next call, all plugins or none, and
// options with a problem change nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { Code, grpcWebProxy, ProxyOps } from "../src/index.js";
import { type Backend, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloRequest } from "./support/hello-messages.js";
import { TEST_PUBLIC_HOSTS } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const APP = "http://app.test";
const OTHER = "http://other.test";

describe("ProxyOps.reload", () => {
  let backend: Backend;
  /** Two apps on one ops: a reload is for both or neither. */
  const apps: FastifyInstance[] = [];
  const urls: string[] = [];
  const ops = new ProxyOps({ processMetrics: false });
  const options = (allowedOrigins: string[]) => ({
    upstream: backend.url,
    allowedOrigins,
    publicHosts: TEST_PUBLIC_HOSTS,
    ops,
  });

  before(async () => {
    backend = await startBackend("connect-node");
    for (let i = 0; i < 2; i++) {
      const app = Fastify({ logger: false });
      await app.register(grpcWebProxy, options([APP]));
      await app.listen({ host: "127.0.0.1", port: 0 });
      apps.push(app);
      urls.push(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
    }
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await backend?.close();
  });

  const callFrom = (origin: string, url = urls[0] as string) =>
    grpcWebCall(url, SAY_HELLO, { message: helloRequest("reload"), headers: { origin } });

  test("options with a problem are refused, naming it, and change nothing", async () => {
    await assert.rejects(
      ops.reload({ ...options([OTHER]), maxMessageBytes: -1 }),
      (error: Error) => error instanceof TypeError && /maxMessageBytes/.test(error.message),
    );
    assert.equal((await callFrom(APP)).grpcStatus, Code.OK);
    assert.equal((await callFrom(OTHER)).grpcStatus, Code.PERMISSION_DENIED);
  });

  test("new options serve the next call, in every plugin registered with the ops", async () => {
    await ops.reload(options([OTHER]));
    assert.equal((await callFrom(OTHER)).grpcStatus, Code.OK);
    assert.equal((await callFrom(APP)).grpcStatus, Code.PERMISSION_DENIED);
    assert.equal((await callFrom(OTHER, urls[1])).grpcStatus, Code.OK);
    assert.equal((await callFrom(APP, urls[1])).grpcStatus, Code.PERMISSION_DENIED);
  });
});
