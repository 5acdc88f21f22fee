// createWebClient's client-streaming and bidi methods over createWebSocketTransport in Node (with `ws`'s
// WebSocket), through the real proxy: to the connect-node greeter's SayHelloBidiStream and to grpc-js's
// interop TestService. The same client keeps unary and server streaming on fetch.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, Code } from "@connectrpc/connect";
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
import { failure } from "./support/failure.js";
import { greeterBehindProxyForFile } from "./support/greeter-behind-proxy.js";

const greeterBehindProxy = greeterBehindProxyForFile();

describe("to the connect-node greeter", () => {
  const greeter = () =>
    createWebClient(Greeter, createWebSocketTransport({ baseUrl: greeterBehindProxy.proxy.url, WebSocket }));

  test("bidi: each reply arrives while the call is open, with headers and trailers", async () => {
    const names = ["Ada", "Grace", "Alan"];
    let replied = () => {};
    const sent: string[] = [];
    // Each request goes out only once the reply to the one before has come: a bidi call, not a batch.
    async function* requests() {
      for (const name of names) {
        sent.push(name);
        yield { name };
        await new Promise<void>((resolve) => (replied = resolve));
      }
    }
    const replies: string[] = [];
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    for await (const reply of greeter().sayHelloBidiStream(requests(), {
      timeoutMs: 5000,
      onHeader: (h) => (header = h),
      onTrailer: (t) => (trailer = t),
    })) {
      replies.push(reply.message);
      assert.equal(sent.length, replies.length, "a reply before the next request was sent");
      replied();
    }
    assert.deepEqual(replies, ["Hello, Ada!", "Hello, Grace!", "Hello, Alan!"]);
    assert.ok(header, "onHeader was called");
    assert.equal(trailer?.get("grpc-status"), "0");
  });

  test("unary and server streaming on the same client stay on fetch", async () => {
    const client = greeter();
    assert.equal((await client.sayHello({ name: "Node" })).message, "Hello, Node!");
    const replies: string[] = [];
    for await (const reply of client.sayHelloStreamReply({ name: "Node" })) replies.push(reply.message);
    assert.equal(replies.length, 3);
  });
});

describe("to grpc-js's interop TestService", () => {
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
  // The service's descriptors are compiled at run time, so its methods are typed here.
  interface TestService {
    streamingInputCall(
      requests: AsyncIterable<Init>,
      options?: CallOptions,
    ): Promise<{ aggregatedPayloadSize: number }>;
    fullDuplexCall(
      requests: AsyncIterable<Init>,
      options?: CallOptions,
    ): AsyncIterable<{ payload: { body: Uint8Array } }>;
  }
  const client = () =>
    createWebClient(
      testing.service,
      createWebSocketTransport({ baseUrl: proxy.url, WebSocket }),
    ) as unknown as TestService;
  const payloads = (...sizes: number[]) => sizes.map((size) => ({ payload: { body: new Uint8Array(size) } }));
  const output = (sizes: number[], responseStatus?: { code: number; message: string }) => ({
    responseParameters: sizes.map((size) => ({ size })),
    ...(responseStatus ? { responseStatus } : {}),
  });
  async function* each(...requests: Init[]) {
    yield* requests;
  }

  test("client streaming: a promise of the one reply, metadata both ways, the deadline sent", async () => {
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const reply = await client().streamingInputCall(each(...payloads(27182, 8, 1828, 45904)), {
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
  });

  test("client streaming with no requests: the reply still comes", async () => {
    assert.equal((await client().streamingInputCall(each())).aggregatedPayloadSize, 0);
  });

  test("a client-streaming call that outlives its deadline: DEADLINE_EXCEEDED", async () => {
    async function* never() {
      yield* payloads(1);
      await new Promise(() => {});
    }
    const error = await failure(client().streamingInputCall(never(), { timeoutMs: 300 }));
    assert.equal(error.code, Code.DeadlineExceeded);
  });

  test("bidi: a backend error after a reply is a ConnectError with its status and trailers", async () => {
    const sizes: number[] = [];
    const replies = client().fullDuplexCall(
      each(output([5]), output([], { code: Code.FailedPrecondition, message: "no more, 100% sure" })),
      { headers: { [ECHO_TRAILING]: "AAEC" } },
    );
    const error = await failure(
      (async () => {
        for await (const reply of replies) sizes.push(reply.payload.body.length);
      })(),
    );
    assert.deepEqual(sizes, [5]);
    assert.equal(error.code, Code.FailedPrecondition);
    assert.equal(error.rawMessage, "no more, 100% sure");
    assert.equal(error.metadata.get(ECHO_TRAILING), "AAEC");
  });

  test("bidi: aborting the signal is CANCELLED here, and the backend sees the call cancelled", async () => {
    const before = log.observations.length;
    const stop = new AbortController();
    async function* requests() {
      yield output([1]);
      await new Promise(() => {});
    }
    const error = await failure(
      (async () => {
        for await (const _ of client().fullDuplexCall(requests(), { signal: stop.signal })) stop.abort();
      })(),
    );
    assert.equal(error.code, Code.Canceled);
    await waitFor(() =>
      log.observations.slice(before).find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
    );
  });

  test("bidi: breaking out of the replies cancels the call, and the backend sees it", async () => {
    const before = log.observations.length;
    async function* requests() {
      yield output([1]);
      await new Promise(() => {});
    }
    for await (const _ of client().fullDuplexCall(requests())) break;
    await waitFor(() =>
      log.observations.slice(before).find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
    );
  });
});
