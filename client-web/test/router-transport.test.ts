// How users test code that calls a service: the code takes a connect Transport, production gives it
// createGrpcWebTransport, and a test gives it connect's createRouterTransport with a fake service.
// Nothing of this package runs over the network here; the point is that both clients, the retry
// interceptor and the error handling are the same against either transport.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type Transport } from "@connectrpc/connect";
import { Greeter } from "../src/greeter.js";
import { createWebClient, retryInterceptor } from "../src/index.js";

/** Application code under test: greets everyone, and says who could not be greeted. */
async function greetAll(transport: Transport, names: string[]): Promise<string[]> {
  const client = createClient(Greeter, transport);
  const lines: string[] = [];
  for (const name of names) {
    try {
      lines.push((await client.sayHello({ name })).message);
    } catch (error) {
      lines.push(`${name}: ${Code[ConnectError.from(error).code]}`);
    }
  }
  return lines;
}

function fakeGreeter(options?: Parameters<typeof createRouterTransport>[1]) {
  let calls = 0;
  const transport = createRouterTransport(({ service }) => {
    service(Greeter, {
      sayHello(request) {
        calls++;
        if (request.name === "") throw new ConnectError("name must not be empty", Code.InvalidArgument);
        if (request.name === "flaky" && calls === 1) throw new ConnectError("try again", Code.Unavailable);
        return { message: `Hi ${request.name}` };
      },
      async *sayHelloStreamReply(request, context) {
        context.responseHeader.set("x-count", "2");
        for (let i = 1; i <= 2; i++) yield { message: `Hi ${request.name} #${i}` };
        context.responseTrailer.set("x-done", "yes");
      },
    });
  }, options);
  return { transport, calls: () => calls };
}

test("application code runs unchanged against a router transport standing in for the proxy", async () => {
  const { transport } = fakeGreeter();
  assert.deepEqual(await greetAll(transport, ["Ada", "", "Grace"]), [
    "Hi Ada",
    ": InvalidArgument",
    "Hi Grace",
  ]);
});

test("createWebClient works on the router transport too, headers, trailers and streams included", async () => {
  const client = createWebClient(Greeter, fakeGreeter().transport);
  let header: Headers | undefined;
  let trailer: Headers | undefined;
  const replies: string[] = [];
  for await (const reply of client.sayHelloStreamReply(
    { name: "Ada" },
    { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
  )) {
    replies.push(reply.message);
  }
  assert.deepEqual(replies, ["Hi Ada #1", "Hi Ada #2"]);
  assert.equal(header?.get("x-count"), "2");
  assert.equal(trailer?.get("x-done"), "yes");
  await assert.rejects(
    client.sayHello({ name: "" }),
    (error) => error instanceof ConnectError && error.code === Code.InvalidArgument,
  );
});

test("this package's retry interceptor does its work on the router transport", async () => {
  const fake = fakeGreeter({ transport: { interceptors: [retryInterceptor({ initialBackoffMs: 1 })] } });
  assert.deepEqual(await greetAll(fake.transport, ["flaky"]), ["Hi flaky"]);
  assert.equal(fake.calls(), 2);
});
