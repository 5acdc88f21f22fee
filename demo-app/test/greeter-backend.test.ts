import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { waitFor } from "../../testing/net.js";
import { startGreeter } from "./support/greeter.js";
import { assertPaced } from "./support/pacing.js";

test("SayHello greets, echoes x- metadata as echo- headers and ends with summary trailers", async (t) => {
  const { client } = await startGreeter(t);
  let headers = new Headers();
  let trailers = new Headers();
  const reply = await client.sayHello(
    { name: "Ada" },
    {
      headers: { "x-user": "ada@example.com", "other-key": "kept private" },
      onHeader: (h) => (headers = h),
      onTrailer: (h) => (trailers = h),
    },
  );
  assert.equal(reply.message, "Hello, Ada!");
  assert.equal(headers.get("echo-x-user"), "ada@example.com");
  assert.equal(headers.get("echo-other-key"), null);
  assert.equal(trailers.get("x-replies-sent"), "1");
  assert.match(trailers.get("x-handled-ms") ?? "", /^\d+$/);
});

test("an empty name is INVALID_ARGUMENT with a message that says what to do", async (t) => {
  const { client, records } = await startGreeter(t);
  const error = await client.sayHello({ name: "  " }).catch(ConnectError.from);
  assert.ok(error instanceof ConnectError);
  assert.equal(error.code, Code.InvalidArgument);
  assert.match(error.rawMessage, /name must not be empty/);
  assert.deepEqual(records, [{ method: "SayHello", replies: 0, code: Code.InvalidArgument }]);
});

test("SayHelloStreamReply sends x-reply-count replies x-reply-delay-ms apart", async (t) => {
  const { client, records } = await startGreeter(t);
  const arrivals: number[] = [];
  const messages: string[] = [];
  let trailers = new Headers();
  const start = performance.now();
  const stream = client.sayHelloStreamReply(
    { name: "Grace" },
    { headers: { "x-reply-count": "3", "x-reply-delay-ms": "150" }, onTrailer: (h) => (trailers = h) },
  );
  for await (const reply of stream) {
    arrivals.push(performance.now() - start);
    messages.push(reply.message);
  }
  assert.deepEqual(messages, ["Hello, Grace! (1 of 3)", "Hello, Grace! (2 of 3)", "Hello, Grace! (3 of 3)"]);
  assertPaced(arrivals, 150);
  assert.equal(trailers.get("x-replies-sent"), "3");
  assert.deepEqual(records, [{ method: "SayHelloStreamReply", replies: 3, code: undefined }]);
});

test("a bad x-reply-count is INVALID_ARGUMENT naming the key and the range", async (t) => {
  const { client } = await startGreeter(t);
  const stream = client.sayHelloStreamReply({ name: "Grace" }, { headers: { "x-reply-count": "many" } });
  await assert.rejects(
    (async () => {
      for await (const _ of stream);
    })(),
    (error: unknown) =>
      error instanceof ConnectError &&
      error.code === Code.InvalidArgument &&
      error.rawMessage === 'metadata x-reply-count must be a whole number from 1 to 20, got "many"',
  );
});

test("cancelling a stream stops the server's work: no more replies are produced", async (t) => {
  const { client, records } = await startGreeter(t);
  const abort = new AbortController();
  const stream = client.sayHelloStreamReply(
    { name: "Linus" },
    // A second apart, so that the cancel sent on the second reply reaches the server long before a third is due,
    // however slow this machine is at the moment.
    { signal: abort.signal, headers: { "x-reply-count": "10", "x-reply-delay-ms": "1000" } },
  );
  const received: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const reply of stream) {
        received.push(reply.message);
        if (received.length === 2) abort.abort();
      }
    })(),
    (error: unknown) => ConnectError.from(error).code === Code.Canceled,
  );
  // The record is made once, when the server's reply generator ends, with the replies it handed out: a server
  // that went on after the cancel would make it only after its tenth reply, and say so.
  assert.deepEqual(await waitFor(() => records[0]), {
    method: "SayHelloStreamReply",
    replies: 2,
    code: Code.Canceled,
  });
});

// The client sends only the grpc-timeout header and keeps no timer of its own, so what ends the call is
// the server enforcing the deadline, not the client resetting the stream.
test("the server enforces grpc-timeout: DEADLINE_EXCEEDED, and it stops producing replies", async (t) => {
  const { client, records } = await startGreeter(t);
  const stream = client.sayHelloStreamReply(
    { name: "Barbara" },
    { headers: { "grpc-timeout": "300m", "x-reply-count": "10", "x-reply-delay-ms": "200" } },
  );
  const received: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const reply of stream) received.push(reply.message);
    })(),
    (error: unknown) => ConnectError.from(error).code === Code.DeadlineExceeded,
  );
  assert.equal(received.length, 2);
  assert.deepEqual(await waitFor(() => records[0]), {
    method: "SayHelloStreamReply",
    replies: 2,
    code: Code.DeadlineExceeded,
  });
});

test("SayHelloBidiStream answers each request as it arrives (native gRPC clients)", async (t) => {
  const { client, records } = await startGreeter(t);
  async function* names() {
    yield { name: "Ada" };
    yield { name: "Grace" };
    yield { name: "Linus" };
  }
  const messages: string[] = [];
  for await (const reply of client.sayHelloBidiStream(names())) messages.push(reply.message);
  assert.deepEqual(messages, ["Hello, Ada!", "Hello, Grace!", "Hello, Linus!"]);
  assert.deepEqual(records, [{ method: "SayHelloBidiStream", replies: 3, code: undefined }]);
});
