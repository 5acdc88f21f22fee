// Client- and bidi-streaming calls over WebSocket in Node, with `ws`'s WebSocket, through the real proxy to the
// connect-node greeter, to grpc-js's interop TestService and to the grpcio greeter.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DescMessage, DescMethodStreaming, MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, Code, createClient } from "@connectrpc/connect";
import WebSocket from "ws";
import {
  ECHO_INITIAL,
  ECHO_TRAILING,
  grpcTesting,
  startInteropTestService,
} from "../../proxy/test/support/interop-test-service.js";
import { ObservationLog } from "../../proxy/test/support/observations.js";
import { type RunningProxy, startProxy } from "../../proxy/test/support/proxy.js";
import { waitFor } from "../../testing/net.js";
import { Greeter } from "../src/greeter.js";
import { createWebClient } from "../src/index.js";
import { createWebSocketTransport } from "../src/websocket/index.js";
import { sendHighWaterMark } from "../src/websocket/websocket-call.js";
import { failure } from "./support/failure.js";
import { greeterBehindProxyForFile } from "./support/greeter-behind-proxy.js";

const greeterBehindProxy = greeterBehindProxyForFile();

/** A queue of requests a test feeds one at a time, as a ping-pong caller does. */
function requestQueue<T>() {
  const waiting: ((result: IteratorResult<T>) => void)[] = [];
  const ready: IteratorResult<T>[] = [];
  const push = (result: IteratorResult<T>) => {
    const resolve = waiting.shift();
    if (resolve) resolve(result);
    else ready.push(result);
  };
  return {
    send: (value: T) => push({ value, done: false }),
    finish: () => push({ value: undefined, done: true }),
    iterable: {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          new Promise<IteratorResult<T>>((resolve) => {
            const result = ready.shift();
            if (result) resolve(result);
            else waiting.push(resolve);
          }),
      }),
    } as AsyncIterable<T>,
  };
}

describe("through the proxy to the connect-node greeter", () => {
  test("bidi ping-pong: each reply arrives before the next request is sent", async () => {
    const transport = createWebSocketTransport({ baseUrl: greeterBehindProxy.proxy.url, WebSocket });
    const greeter = createClient(Greeter, transport);
    const requests = requestQueue<{ name: string }>();
    const names = ["Ada", "Grace", "Alan"];
    requests.send({ name: names[0] as string });
    const replies: string[] = [];
    for await (const reply of greeter.sayHelloBidiStream(requests.iterable, { timeoutMs: 5000 })) {
      replies.push(reply.message);
      const next = names[replies.length];
      if (next) requests.send({ name: next });
      else requests.finish();
    }
    assert.deepEqual(replies, ["Hello, Ada!", "Hello, Grace!", "Hello, Alan!"]);
  });

  test("createWebClient: a bidi call's replies arrive while it is open, with headers and trailers", async () => {
    const greeter = createWebClient(
      Greeter,
      createWebSocketTransport({ baseUrl: greeterBehindProxy.proxy.url, WebSocket }),
    );
    const requests = requestQueue<{ name: string }>();
    const names = ["Ada", "Grace", "Alan"];
    requests.send({ name: names[0] as string });
    const replies: string[] = [];
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const options = {
      timeoutMs: 5000,
      onHeader: (h: Headers) => (header = h),
      onTrailer: (t: Headers) => (trailer = t),
    };
    for await (const reply of greeter.sayHelloBidiStream(requests.iterable, options)) {
      replies.push(reply.message);
      const next = names[replies.length];
      if (next) requests.send({ name: next });
      else requests.finish();
    }
    assert.deepEqual(replies, ["Hello, Ada!", "Hello, Grace!", "Hello, Alan!"]);
    assert.ok(header, "onHeader was called");
    assert.equal(trailer?.get("grpc-status"), "0");
    // The same client keeps unary calls on fetch.
    assert.equal((await greeter.sayHello({ name: "Node" })).message, "Hello, Node!");
  });

  test("unary and server streaming stay on fetch", async () => {
    const greeter = createClient(
      Greeter,
      createWebSocketTransport({ baseUrl: greeterBehindProxy.proxy.url, WebSocket }),
    );
    assert.equal((await greeter.sayHello({ name: "Node" })).message, "Hello, Node!");
    const replies: string[] = [];
    for await (const reply of greeter.sayHelloStreamReply({ name: "Node" })) replies.push(reply.message);
    assert.equal(replies.length, 3);
  });

  test("Node 20 without the WebSocket option: UNIMPLEMENTED, saying what to pass", {
    skip: "WebSocket" in globalThis,
  }, async () => {
    const greeter = createClient(
      Greeter,
      createWebSocketTransport({ baseUrl: greeterBehindProxy.proxy.url }),
    );
    const error = await failure(greeter.sayHelloBidiStream((async function* () {})()));
    assert.equal(error.code, Code.Unimplemented);
    assert.match(error.rawMessage, /WebSocket option/);
  });

  test("no proxy listening: UNAVAILABLE, naming the URL", async () => {
    const greeter = createClient(
      Greeter,
      createWebSocketTransport({ baseUrl: "http://127.0.0.1:9", WebSocket }),
    );
    const error = await failure(greeter.sayHelloBidiStream((async function* () {})()));
    assert.equal(error.code, Code.Unavailable);
    assert.match(error.rawMessage, /ws:\/\/127\.0\.0\.1:9\/helloworld\.Greeter\/SayHelloBidiStream/);
  });
});

describe("through the proxy to grpc-js's interop TestService", () => {
  const testing = grpcTesting();
  const log = new ObservationLog();
  let backend: { port: number; close(): Promise<void> };
  let proxy: RunningProxy;
  before(async () => {
    backend = await startInteropTestService(log);
    proxy = await startProxy(`http://127.0.0.1:${backend.port}`);
  });
  after(async () => {
    await proxy?.close();
    await backend?.close();
  });

  type Init = MessageInitShape<DescMessage>;
  const call = (name: string) => {
    const method = testing.service.methods.find((m) => m.name === name);
    assert.ok(method && method.methodKind !== "unary" && method.methodKind !== "server_streaming");
    return method as DescMethodStreaming;
  };
  const transport = () => createWebSocketTransport({ baseUrl: proxy.url, WebSocket });
  const output = (sizes: number[], responseStatus?: { code: number; message: string }) => ({
    responseParameters: sizes.map((size) => ({ size })),
    ...(responseStatus ? { responseStatus } : {}),
  });
  async function* each(...requests: Init[]) {
    yield* requests;
  }
  const payloadSize = (reply: unknown) => (reply as { payload: { body: Uint8Array } }).payload.body.length;

  // createWebClient on the transport. The service's descriptors are compiled at run time, so its methods are typed here.
  interface TestService {
    streamingInputCall(
      requests: AsyncIterable<Init>,
      options?: CallOptions,
    ): Promise<{ aggregatedPayloadSize: number }>;
    fullDuplexCall(requests: AsyncIterable<Init>, options?: CallOptions): AsyncIterable<unknown>;
  }
  const webClient = () => createWebClient(testing.service, transport()) as unknown as TestService;
  const payloads = (...sizes: number[]) => sizes.map((size) => ({ payload: { body: new Uint8Array(size) } }));

  test("createWebClient, client streaming: a promise of the one reply, metadata both ways, the deadline sent", async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const reply = await webClient().streamingInputCall(each(...payloads(27182, 8, 1828, 45904)), {
      timeoutMs: 4000,
      headers: { [ECHO_INITIAL]: "hello", [ECHO_TRAILING]: "AAEC", "x-case": "web-client-input" },
      onHeader: (h) => (header = h),
      onTrailer: (t) => (trailer = t),
    });
    assert.equal(reply.aggregatedPayloadSize, 74922);
    assert.equal(header?.get(ECHO_INITIAL), "hello");
    assert.equal(trailer?.get(ECHO_TRAILING), "AAEC");
    const started = await log.waitFor(
      (o) => o.method === "StreamingInputCall" && o.metadata["x-case"] === "web-client-input",
    );
    assert.ok(started.timeoutMs !== undefined && started.timeoutMs > 3000 && started.timeoutMs <= 4000);
    assert.equal((await webClient().streamingInputCall(each())).aggregatedPayloadSize, 0, "no requests");
  });

  test("createWebClient, client streaming that outlives its deadline: DEADLINE_EXCEEDED", async () => {
    const requests = requestQueue<Init>();
    requests.send(payloads(1)[0] as Init);
    const error = await failure(webClient().streamingInputCall(requests.iterable, { timeoutMs: 300 }));
    assert.equal(error.code, Code.DeadlineExceeded);
  });

  test("createWebClient, bidi: a backend error after a reply is a ConnectError with its status and trailers", async () => {
    const sizes: number[] = [];
    const replies = webClient().fullDuplexCall(
      each(output([5]), output([], { code: Code.FailedPrecondition, message: "no more" })),
      { headers: { [ECHO_TRAILING]: "AAEC" } },
    );
    const error = await failure(
      (async () => {
        for await (const reply of replies) sizes.push(payloadSize(reply));
      })(),
    );
    assert.deepEqual(sizes, [5]);
    assert.equal(error.code, Code.FailedPrecondition);
    assert.equal(error.rawMessage, "no more");
    assert.equal(error.metadata.get(ECHO_TRAILING), "AAEC");
  });

  test("createWebClient, bidi: an abort is CANCELLED, and breaking out cancels too; the backend sees both", async () => {
    for (const stop of ["abort", "break"]) {
      const before = log.observations.length;
      const controller = new AbortController();
      const requests = requestQueue<Init>();
      requests.send(output([1]));
      const replies = webClient().fullDuplexCall(requests.iterable, { signal: controller.signal });
      if (stop === "break") {
        for await (const _ of replies) break;
      } else {
        const error = await failure(
          (async () => {
            for await (const _ of replies) controller.abort();
          })(),
        );
        assert.equal(error.code, Code.Canceled);
      }
      await waitFor(() =>
        log.observations.slice(before).find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
      );
    }
  });

  test("client streaming: the messages, then one aggregated reply", async () => {
    const sizes = [27182, 8, 1828, 45904];
    const response = await transport().stream(
      call("StreamingInputCall"),
      undefined,
      5000,
      undefined,
      each(...sizes.map((size) => ({ payload: { body: new Uint8Array(size) } }))),
      undefined,
    );
    const replies = [];
    for await (const reply of response.message) replies.push(reply);
    assert.equal(replies.length, 1);
    assert.equal((replies[0] as unknown as { aggregatedPayloadSize: number }).aggregatedPayloadSize, 74922);
    assert.equal(response.trailer.get("grpc-status"), "0");
  });

  test("a producer faster than the network is paused: the socket's queue stays bounded, every message arrives", async () => {
    // ws's WebSocket, recording the most bytes it had queued right after a send.
    let mostQueued = 0;
    class MeteredWebSocket extends WebSocket {
      override send(data: Uint8Array): void {
        super.send(data);
        mostQueued = Math.max(mostQueued, this.bufferedAmount);
      }
    }
    const size = 128 * 1024;
    const count = 200;
    async function* fast() {
      for (let i = 0; i < count; i++) yield { payload: { body: new Uint8Array(size) } };
    }
    const response = await createWebSocketTransport({
      baseUrl: proxy.url,
      WebSocket: MeteredWebSocket,
    }).stream(call("StreamingInputCall"), undefined, 60_000, undefined, fast(), undefined);
    const replies = [];
    for await (const reply of response.message) replies.push(reply);
    assert.equal(
      (replies[0] as unknown as { aggregatedPayloadSize: number }).aggregatedPayloadSize,
      size * count,
    );
    // 25 MiB went out; without the pause it would all have been queued at once. A message's frame adds 9 bytes.
    assert.ok(mostQueued <= sendHighWaterMark + size + 16, `${mostQueued} bytes queued`);
  });

  test("1,000 messages each way in one bidi call, in order", async () => {
    const count = 1000;
    const sizeOf = (i: number) => 1 + (i % 97);
    async function* requests() {
      for (let i = 0; i < count; i++) yield output([sizeOf(i)]);
    }
    const response = await transport().stream(
      call("FullDuplexCall"),
      undefined,
      60_000,
      undefined,
      requests(),
      undefined,
    );
    const sizes = [];
    for await (const reply of response.message) sizes.push(payloadSize(reply));
    assert.deepEqual(
      sizes,
      Array.from({ length: count }, (_, i) => sizeOf(i)),
    );
    assert.equal(response.trailer.get("grpc-status"), "0");
  });

  test("bidi: metadata both ways, a deadline the backend sees, headers and trailers", async () => {
    const response = await transport().stream(
      call("FullDuplexCall"),
      undefined,
      4000,
      { [ECHO_INITIAL]: "hello", [ECHO_TRAILING]: "AAEC" },
      each(output([1, 2]), output([3])),
      undefined,
    );
    assert.equal(response.header.get(ECHO_INITIAL), "hello");
    const sizes = [];
    for await (const reply of response.message) sizes.push(payloadSize(reply));
    assert.deepEqual(sizes, [1, 2, 3]);
    assert.equal(response.trailer.get(ECHO_TRAILING), "AAEC");
    const started = await log.waitFor(
      (o) => o.method === "FullDuplexCall" && o.metadata[ECHO_INITIAL] === "hello",
    );
    assert.ok(started.timeoutMs !== undefined && started.timeoutMs > 3000 && started.timeoutMs <= 4000);
  });

  test("a backend error mid-stream: the replies before it, then a ConnectError with its status and metadata", async () => {
    const response = await transport().stream(
      call("FullDuplexCall"),
      undefined,
      5000,
      { [ECHO_TRAILING]: "AAEC" },
      each(output([5]), output([], { code: Code.FailedPrecondition, message: "no more, 100% sure" })),
      undefined,
    );
    const sizes: number[] = [];
    const error = await failure(
      (async () => {
        for await (const reply of response.message) sizes.push(payloadSize(reply));
      })(),
    );
    assert.deepEqual(sizes, [5]);
    assert.equal(error.code, Code.FailedPrecondition);
    assert.equal(error.rawMessage, "no more, 100% sure");
    assert.equal(error.metadata.get(ECHO_TRAILING), "AAEC");
  });

  test("abort mid-stream: CANCELLED here, and the backend sees the call cancelled", async () => {
    const before = log.observations.length;
    const stop = new AbortController();
    const requests = requestQueue<Init>();
    requests.send(output([1]));
    const response = await transport().stream(
      call("FullDuplexCall"),
      stop.signal,
      undefined,
      undefined,
      requests.iterable,
      undefined,
    );
    const error = await failure(
      (async () => {
        for await (const _ of response.message) stop.abort();
      })(),
    );
    assert.equal(error.code, Code.Canceled);
    await waitFor(() =>
      log.observations.slice(before).find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
    );
  });

  test("a deadline that passes while the call is open: DEADLINE_EXCEEDED", async () => {
    const requests = requestQueue<Init>();
    const response = await transport().stream(
      call("FullDuplexCall"),
      undefined,
      300,
      undefined,
      requests.iterable,
      undefined,
    );
    const error = await failure(response.message);
    assert.equal(error.code, Code.DeadlineExceeded);
  });
});

describe("through the proxy to the grpcio greeter", () => {
  const grpcio = greeterBehindProxyForFile("grpcio");

  test("1,000 messages each way in one SayHelloBidiStream call, in order", async () => {
    const greeter = createClient(Greeter, createWebSocketTransport({ baseUrl: grpcio.proxy.url, WebSocket }));
    const names = Array.from({ length: 1000 }, (_, i) => `caller ${i}`);
    async function* requests() {
      for (const name of names) yield { name };
    }
    const replies: string[] = [];
    for await (const reply of greeter.sayHelloBidiStream(requests(), { timeoutMs: 60_000 })) {
      replies.push(reply.message);
    }
    assert.deepEqual(
      replies,
      names.map((name) => `Hello, ${name}!`),
    );
  });
});
