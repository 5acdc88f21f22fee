// Routes: which upstream serves a call, from the parsed table to real calls through the proxy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildServer, Code, type ServerOptions } from "../src/index.js";
import { parseRouteMatch, type Route, RouteTable } from "../src/upstream/routes.js";
import { planRouting } from "../src/upstream/routing.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { greetingFrom, type LoopbackGreeter, startLoopbackGreeter } from "./support/loopback-greeter.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";

function table(routes: Record<string, string>): RouteTable<string> {
  return new RouteTable(
    Object.entries(routes).map(([match, target]): Route<string> => {
      const parsed = parseRouteMatch(match);
      if (typeof parsed === "string") assert.fail(parsed);
      return { match: parsed, target };
    }),
  );
}

describe("route matches", () => {
  test("a method, a service, a package prefix and * parse", () => {
    assert.deepEqual(parseRouteMatch("/helloworld.Greeter/SayHello"), {
      kind: "method",
      path: "/helloworld.Greeter/SayHello",
    });
    assert.deepEqual(parseRouteMatch("helloworld.Greeter"), {
      kind: "service",
      service: "helloworld.Greeter",
    });
    assert.deepEqual(parseRouteMatch("helloworld.*"), { kind: "package", prefix: "helloworld." });
    assert.deepEqual(parseRouteMatch("acme.billing.v1.*"), { kind: "package", prefix: "acme.billing.v1." });
    assert.deepEqual(parseRouteMatch("*"), { kind: "any" });
  });

  for (const bad of [
    "",
    "helloworld.Greeter/SayHello",
    "/helloworld.Greeter",
    "hello*",
    "a.*.b",
    "a..b",
    "/a/b/c",
  ]) {
    test(`"${bad}" is not a route match, and the error says what is`, () => {
      const parsed = parseRouteMatch(bad);
      assert.equal(typeof parsed, "string");
      assert.match(
        parsed as string,
        /expected \/package\.Service\/Method, package\.Service, package\.\* or \*/,
      );
    });
  }
});

describe("route table", () => {
  const routes = table({
    "/helloworld.Greeter/SayHello": "method",
    "helloworld.Greeter": "service",
    "helloworld.*": "package",
    "helloworld.v2.*": "subpackage",
  });

  test("the most specific route wins: method, then service, then the longest package prefix", () => {
    assert.equal(routes.lookup("/helloworld.Greeter/SayHello"), "method");
    assert.equal(routes.lookup("/helloworld.Greeter/SayHelloStreamReply"), "service");
    assert.equal(routes.lookup("/helloworld.Farewell/Bye"), "package");
    assert.equal(routes.lookup("/helloworld.v2.Greeter/SayHello"), "subpackage");
  });

  test("no route, no target: a prefix matches whole package names only", () => {
    assert.equal(routes.lookup("/helloworldx.Greeter/SayHello"), undefined);
    assert.equal(routes.lookup("/other.Service/Method"), undefined);
  });

  test("* catches what nothing more specific does", () => {
    const withDefault = table({ "helloworld.*": "hello", "*": "default" });
    assert.equal(withDefault.lookup("/helloworld.Greeter/SayHello"), "hello");
    assert.equal(withDefault.lookup("/other.Service/Method"), "default");
  });

  test("answers stay the same when cached", () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(routes.lookup("/helloworld.Greeter/SayHello"), "method");
      assert.equal(routes.lookup("/other.Service/Method"), undefined);
    }
  });

  test("a path too long to remember still gets its answer, every time", () => {
    const long = `/helloworld.${"G".repeat(5_000)}/SayHello`;
    for (let i = 0; i < 2; i++) assert.equal(routes.lookup(long), "package");
  });
});

describe("routing options", () => {
  test("one upstream and no routes: every call goes to it", () => {
    const plan = planRouting({ upstream: "http://127.0.0.1:50051" });
    assert.ok(!Array.isArray(plan));
    assert.deepEqual(plan.routes, [{ match: { kind: "any" }, target: "default" }]);
    assert.equal(plan.upstreams[0]?.name, "default");
  });

  test("per-upstream settings win over the top-level ones", () => {
    const plan = planRouting({
      keepaliveInterval: "30s",
      healthCheck: "server",
      upstreams: { a: { addresses: ["http://127.0.0.1:1"], keepaliveInterval: "5s" } },
    });
    assert.ok(!Array.isArray(plan));
    assert.deepEqual(plan.upstreams[0]?.tuning, { healthCheckService: "", keepaliveIntervalMs: 5_000 });
  });

  test("every problem is named by its key", () => {
    const problems = planRouting({
      upstreams: {
        a: { addresses: ["ftp://x", "dns://127.0.0.53/x:1"] },
        b: { addresses: [] },
      },
      routes: [
        { match: "x.*", upstream: "a" },
        { match: "x.*", upstream: "c" },
        { match: "x/y", upstream: "b" },
      ],
    });
    assert.ok(Array.isArray(problems));
    assert.deepEqual(
      problems.map(({ path }) => path.join(".")),
      [
        "upstreams.a.addresses.0",
        "upstreams.a.addresses.1",
        "upstreams.b.addresses",
        "routes.1.match",
        "routes.1.upstream",
        "routes.2.match",
      ],
    );
  });

  test("several upstreams need routes; upstream and upstreams exclude each other", () => {
    const several = planRouting({
      upstreams: { a: { addresses: ["http://127.0.0.1:1"] }, b: { addresses: ["http://127.0.0.1:2"] } },
    });
    assert.ok(Array.isArray(several));
    assert.match(several[0]?.message ?? "", /required with more than one upstream \(a, b\)/);
    const both = planRouting({
      upstream: "http://127.0.0.1:1",
      upstreams: { a: { addresses: ["http://127.0.0.1:2"] } },
    });
    assert.ok(Array.isArray(both));
    assert.deepEqual(both[0]?.path, ["upstreams"]);
  });
});

describe("routed calls through the proxy", () => {
  let hello: LoopbackGreeter;
  let other: LoopbackGreeter;
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    hello = await startLoopbackGreeter("127.0.0.2");
    other = await startLoopbackGreeter("127.0.0.3");
    const options: ServerOptions = {
      logger: false,
      upstreams: {
        hello: { addresses: [`http://127.0.0.2:${hello.port}`] },
        other: { addresses: [`http://127.0.0.3:${other.port}`] },
      },
      routes: [
        { match: "helloworld.Greeter", upstream: "hello" },
        { match: "/helloworld.Greeter/SayHelloStreamReply", upstream: "other" },
        { match: "acme.*", upstream: "other" },
      ],
    };
    app = await buildServer(options);
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await app?.close();
    await hello?.close();
    await other?.close();
  });

  test("each call reaches the upstream its route names", async () => {
    const byService = await grpcWebCall(url, SAY_HELLO, { message: helloRequest("Ada") });
    assert.equal(byService.grpcStatus, Code.OK);
    assert.deepEqual(helloReplies(byService.messages), [greetingFrom("127.0.0.2")]);
    const byMethod = await grpcWebCall(url, "/helloworld.Greeter/SayHelloStreamReply", {
      message: helloRequest("Ada"),
    });
    assert.deepEqual(helloReplies(byMethod.messages), [greetingFrom("127.0.0.3")]);
    const byPackage = await grpcWebCall(url, "/acme.billing.Invoices/Get", { message: helloRequest("Ada") });
    assert.deepEqual(helloReplies(byPackage.messages), [greetingFrom("127.0.0.3")]);
  });

  test("a call no route matches is UNIMPLEMENTED at the proxy, and no backend sees it", async () => {
    const before = hello.calls() + other.calls();
    const call = await grpcWebCall(url, "/secret.Admin/DropTables", { message: helloRequest("Ada") });
    assert.equal(call.status, 200);
    assert.equal(call.grpcStatus, Code.UNIMPLEMENTED);
    assert.match(call.grpcMessage ?? "", /no route for \/secret\.Admin\/DropTables/);
    assert.equal(hello.calls() + other.calls(), before);
  });
});
