// The apps buildServer and buildAdminServer make load Fastify's schema compilers (ajv) only when a route first has a
// schema: a proxy that has none does not carry them (about 3 MiB of RSS on Node 22). One file, one process: the
// first test sees the module cache before anything here has compiled a schema.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { DEAD_PORT } from "../../testing/net.js";
import { buildAdminServer, buildServer, ProxyOps } from "../src/index.js";
import { TEST_PUBLIC_HOSTS } from "./support/proxy.js";

const require = createRequire(import.meta.url);
const loaded = (name: string) =>
  Object.keys(require.cache).some((path) => path.includes(`/node_modules/${name}/`));

test("a proxy and its admin app start without Fastify's schema compilers", async () => {
  const app = await buildServer({
    logger: false,
    upstream: `http://127.0.0.1:${DEAD_PORT}`,
    publicHosts: TEST_PUBLIC_HOSTS,
  });
  const admin = buildAdminServer(new ProxyOps({ processMetrics: false }));
  try {
    await Promise.all([app.ready(), admin.ready()]);
    assert.equal(loaded("fastify"), true, "the check sees Fastify's own modules");
    assert.equal(loaded("ajv"), false);
    assert.equal(loaded("fast-json-stringify"), true, "Fastify's error serializer, which it always loads");
  } finally {
    await Promise.all([app.close(), admin.close()]);
  }
});

test("a route added to the proxy's app with schemas validates its request and serializes its reply", async () => {
  const app = await buildServer({
    logger: false,
    upstream: `http://127.0.0.1:${DEAD_PORT}`,
    publicHosts: TEST_PUBLIC_HOSTS,
  });
  app.post(
    "/echo",
    {
      schema: {
        headers: { type: "object", required: ["x-tenant"], properties: { "x-tenant": { type: "string" } } },
        body: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
        response: { 200: { type: "object", properties: { twice: { type: "integer" } } } },
      },
    },
    async (request) => ({ twice: (request.body as { n: number }).n * 2, dropped: "not in the schema" }),
  );
  try {
    const post = (body: unknown, headers: Record<string, string> = { "x-tenant": "a" }) =>
      app.inject({
        method: "POST",
        url: "/echo",
        headers: { host: TEST_PUBLIC_HOSTS[0], ...headers },
        payload: body as object,
      });
    const ok = await post({ n: 21 });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { twice: 42 });
    assert.equal((await post({ n: "many" })).statusCode, 400);
    assert.equal((await post({ n: 1 }, {})).statusCode, 400);
    assert.equal(loaded("ajv"), true);
  } finally {
    await app.close();
  }
});
