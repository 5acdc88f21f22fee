// connect-query with this transport, in Node: the framework-agnostic core that @connectrpc/connect-query's
// React hooks are built on (createQueryOptions, callUnaryMethod), driven by TanStack's QueryClient as
// useQuery drives it, against the proxy in front of a connect-node backend. No React render: the hooks
// add rendering on top of exactly these calls.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { callUnaryMethod, createConnectQueryKey, createQueryOptions } from "@connectrpc/connect-query-core";
import { QueryClient } from "@tanstack/query-core";
import { Greeter } from "../src/greeter.js";
import { createGrpcWebTransport } from "../src/index.js";
import { greeterBehindProxyForFile } from "./support/greeter-behind-proxy.js";

const greeterBehindProxy = greeterBehindProxyForFile();

const started = (name: string) =>
  greeterBehindProxy.backend.observations.filter(
    (o) => o.event === "started" && o.metadata["x-case"] === name,
  ).length;

test("a query fetches through the proxy once, then answers from the cache under its connect-query key", async () => {
  const transport = createGrpcWebTransport({ baseUrl: greeterBehindProxy.proxy.url, defaultTimeoutMs: 5000 });
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: 60_000 } } });
  const options = createQueryOptions(
    Greeter.method.sayHello,
    { name: "Query" },
    { transport, headers: { "x-case": "cached" } },
  );
  assert.equal((await queryClient.fetchQuery(options)).message, "Hello, Query!");
  assert.equal((await queryClient.fetchQuery(options)).message, "Hello, Query!");
  assert.equal(started("cached"), 1);
  const key = createConnectQueryKey({
    schema: Greeter.method.sayHello,
    input: { name: "Query" },
    transport,
    headers: { "x-case": "cached" },
    cardinality: "finite",
  });
  assert.deepEqual(key, options.queryKey);
  assert.equal(queryClient.getQueryData(key)?.message, "Hello, Query!");
  queryClient.clear();
});

test("a failed query holds the ConnectError, with its code and the response's metadata", async () => {
  const transport = createGrpcWebTransport({ baseUrl: greeterBehindProxy.proxy.url });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const options = createQueryOptions(
    Greeter.method.sayHello,
    { name: "Query" },
    {
      transport,
      headers: { "x-fail-code": String(Code.PermissionDenied), "x-fail-message": "not you", "x-echo-a": "1" },
    },
  );
  await assert.rejects(queryClient.fetchQuery(options), (error) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.PermissionDenied);
    assert.equal(error.rawMessage, "not you");
    assert.equal(error.metadata.get("x-echo-a"), "1");
    return true;
  });
  const state = queryClient.getQueryState(options.queryKey);
  assert.equal(state?.status, "error");
  assert.ok(state?.error instanceof ConnectError);
  queryClient.clear();
});

test("cancelQueries aborts the call in flight: the backend sees it cancelled, and the query goes back to idle", async () => {
  const transport = createGrpcWebTransport({ baseUrl: greeterBehindProxy.proxy.url });
  const queryClient = new QueryClient();
  const options = createQueryOptions(
    Greeter.method.sayHello,
    { name: "Query" },
    { transport, headers: { "x-case": "cancel", "x-sleep-ms": "10000" } },
  );
  const fetching = queryClient.fetchQuery(options);
  await greeterBehindProxy.backend.waitFor((o) => o.event === "started" && o.metadata["x-case"] === "cancel");
  await queryClient.cancelQueries({ queryKey: options.queryKey });
  await assert.rejects(fetching);
  await greeterBehindProxy.backend.waitFor(
    (o) => o.event === "cancelled" && o.metadata["x-case"] === "cancel",
  );
  assert.equal(queryClient.getQueryState(options.queryKey)?.fetchStatus, "idle");
  queryClient.clear();
});

test("callUnaryMethod, connect-query's way to call outside a query, rejects an aborted call with CANCELLED", async () => {
  const transport = createGrpcWebTransport({ baseUrl: greeterBehindProxy.proxy.url });
  assert.equal(
    (await callUnaryMethod(transport, Greeter.method.sayHello, { name: "Query" })).message,
    "Hello, Query!",
  );
  const controller = new AbortController();
  const call = callUnaryMethod(
    transport,
    Greeter.method.sayHello,
    { name: "Query" },
    { signal: controller.signal },
  );
  controller.abort();
  await assert.rejects(call, (error) => ConnectError.from(error).code === Code.Canceled);
});
