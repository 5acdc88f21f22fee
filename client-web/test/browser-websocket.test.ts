// Headless Chromium: a page on one loopback origin makes calls with the browser's own WebSocket and this
// package's WebSocket transport, through the project's proxy on another origin: bidi ping-pong (each request
// sent only once the reply to the one before has arrived) to the connect-node and grpcio greeters, and every
// method kind of grpc-js's interop TestService with gzip (unary and server streaming on fetch, client streaming
// and bidi over WebSocket), and how bidi calls end (1,000 messages each way, a status mid-stream, a deadline, a
// refused origin), all from one page.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { type Backend, startBackend } from "../../proxy/test/support/backends.js";
import {
  ECHO_INITIAL,
  grpcTesting,
  startInteropTestService,
} from "../../proxy/test/support/interop-test-service.js";
import { ObservationLog } from "../../proxy/test/support/observations.js";
import { type RunningProxy, startProxy } from "../../proxy/test/support/proxy.js";
import { launchChromium } from "../../testing/browser.js";
import { pageBuildOptions } from "./support/browser-harness.js";

// The page's script: `pingPong(baseUrl, names)` returns what it sent and received, in order.
const pageScript = `
  import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
  import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
  import { createClient } from "@connectrpc/connect";
  import { gzip } from "@grpc-web-bridge/client-web";
  import { Greeter } from "@grpc-web-bridge/client-web/greeter";
  import { createWebSocketTransport } from "@grpc-web-bridge/client-web/websocket";
  globalThis.pingPong = async (baseUrl, names) => {
    const greeter = createClient(Greeter, createWebSocketTransport({ baseUrl }));
    const seen = [];
    let replied = () => {};
    async function* requests() {
      for (const name of names) {
        seen.push("sent " + name);
        yield { name };
        await new Promise((resolve) => { replied = resolve; });
      }
    }
    for await (const reply of greeter.sayHelloBidiStream(requests(), { timeoutMs: 5000 })) {
      seen.push("got " + reply.message);
      replied();
    }
    return seen;
  };
  // Opens a bidi call tagged x-case, aborts it once the first reply is in, and reports the error's code.
  globalThis.abortAfterFirstReply = async (baseUrl, name) => {
    const greeter = createClient(Greeter, createWebSocketTransport({ baseUrl }));
    const stop = new AbortController();
    async function* requests() {
      yield { name };
      await new Promise(() => {});
    }
    try {
      for await (const _ of greeter.sayHelloBidiStream(requests(), { signal: stop.signal, headers: { "x-case": name } })) stop.abort();
    } catch (error) {
      return error.code;
    }
    return "no error";
  };
  // One call of each kind to the interop TestService, whose descriptors the test hands over, with gzip: the
  // payload sizes each call got back, the aggregated size, the echoed header and trailer of the bidi call, and
  // the frame flags of the data messages the page's WebSocket sent (1: compressed).
  const testService = (baseUrl, descriptorSet, options = {}) => {
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Uint8Array.from(descriptorSet)));
    return createClient(registry.getService("grpc.testing.TestService"), createWebSocketTransport({ baseUrl, ...options }));
  };
  globalThis.testServiceCalls = async (baseUrl, descriptorSet) => {
    const sentFlags = [];
    class TappedWebSocket extends WebSocket {
      send(data) {
        if (data[0] === 0 && data.length > 1) sentFlags.push(data[1]);
        super.send(data);
      }
    }
    const client = testService(baseUrl, descriptorSet, { compression: gzip, WebSocket: TappedWebSocket });
    const options = { timeoutMs: 10000 };
    const sizesOf = async (replies) => {
      const sizes = [];
      for await (const reply of replies) sizes.push(reply.payload.body.length);
      return sizes;
    };
    const unary = (await client.unaryCall({ responseSize: 7 }, options)).payload.body.length;
    const serverStream = await sizesOf(client.streamingOutputCall({ responseParameters: [{ size: 1 }, { size: 2 }] }, options));
    async function* payloads() {
      for (const size of [10, 20, 30000]) yield { payload: { body: new Uint8Array(size) } };
    }
    const clientStream = (await client.streamingInputCall(payloads(), options)).aggregatedPayloadSize;
    async function* asks() {
      for (const size of [4, 5, 6]) yield { responseParameters: [{ size }] };
    }
    let echoed = {};
    const bidi = await sizesOf(client.fullDuplexCall(asks(), {
      ...options,
      headers: { "x-grpc-test-echo-initial": "from the page", "x-grpc-test-echo-trailing-bin": "AAEC" },
      onHeader: (headers) => { echoed.header = headers.get("x-grpc-test-echo-initial"); },
      onTrailer: (trailers) => { echoed.trailer = trailers.get("x-grpc-test-echo-trailing-bin"); },
    }));
    return { unary, serverStream, clientStream, bidi, echoed, sentFlags };
  };
  // How bidi calls end, against the TestService: 1,000 messages each way in one call (whether every reply had
  // the size its request asked for), a status after a reply, a deadline the page enforces on a call that
  // never ends, and a proxy that refuses the page's origin.
  globalThis.bidiEndings = async (baseUrl, descriptorSet, refusingUrl) => {
    const client = testService(baseUrl, descriptorSet);
    const sizeOf = (i) => 1 + (i % 7);
    async function* thousand() {
      for (let i = 0; i < 1000; i++) yield { responseParameters: [{ size: sizeOf(i) }], payload: { body: new Uint8Array(i % 100) } };
    }
    const thousandEachWay = { replies: 0, sizesAsAsked: true };
    for await (const reply of client.fullDuplexCall(thousand(), { timeoutMs: 30000 })) {
      if (reply.payload.body.length !== sizeOf(thousandEachWay.replies)) thousandEachWay.sizesAsAsked = false;
      thousandEachWay.replies++;
    }
    const ending = async (requests, options) => {
      const seen = { sizes: [] };
      const started = performance.now();
      try {
        for await (const reply of client.fullDuplexCall(requests, options)) seen.sizes.push(reply.payload.body.length);
      } catch (error) {
        Object.assign(seen, { code: error.code, message: error.rawMessage });
      }
      seen.ms = performance.now() - started;
      return seen;
    };
    async function* failSecond() {
      yield { responseParameters: [{ size: 3 }] };
      yield { responseStatus: { code: 9, message: "stopped mid-stream" } };
    }
    async function* neverEnding() {
      yield { responseParameters: [{ size: 2 }] };
      await new Promise(() => {});
    }
    const midStream = await ending(failSecond(), { timeoutMs: 10000 });
    const deadline = await ending(neverEnding(), { timeoutMs: 500 });
    delete midStream.ms;
    const refused = await pingPong(refusingUrl, ["Ada"]).then(() => "no error", (error) => error.code);
    return { thousandEachWay, midStream, deadline, refused };
  };`;

let server: Server;
let origin: string;
let browser: Browser;
let page: Page;
let backend: Backend;
let proxy: RunningProxy;
let grpcio: Backend;
let grpcioProxy: RunningProxy;
const testServiceLog = new ObservationLog();
let testService: { port: number; close(): Promise<void> };
let testServiceProxy: RunningProxy;
let refusingProxy: RunningProxy;
const pageErrors: string[] = [];

before(async () => {
  const bundled = await build({
    stdin: { contents: pageScript, resolveDir: fileURLToPath(new URL(".", import.meta.url)) },
    ...pageBuildOptions,
  });
  const script = bundled.outputFiles[0]?.text ?? assert.fail("esbuild wrote nothing");
  server = createServer((req, res) => {
    if (req.url === "/page.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else
      res
        .writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>');
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  backend = await startBackend("connect-node");
  proxy = await startProxy(backend.url, { allowedOrigins: [origin] });
  grpcio = await startBackend("grpcio");
  grpcioProxy = await startProxy(grpcio.url, { allowedOrigins: [origin] });
  testService = await startInteropTestService(testServiceLog);
  testServiceProxy = await startProxy(`http://127.0.0.1:${testService.port}`, { allowedOrigins: [origin] });
  refusingProxy = await startProxy(backend.url, { allowedOrigins: ["https://elsewhere.example"] });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(origin);
  await page.waitForFunction(() => "pingPong" in globalThis);
});

after(async () => {
  await browser?.close();
  server?.close();
  for (const running of [proxy, refusingProxy, backend, grpcioProxy, grpcio, testServiceProxy, testService])
    await running?.close();
});

test("bidi ping-pong over the browser's WebSocket: each reply before the next request", async () => {
  const seen = await page.evaluate(`pingPong(${JSON.stringify(proxy.url)}, ["Ada", "Grace", "Alan"])`);
  assert.deepEqual(seen, [
    "sent Ada",
    "got Hello, Ada!",
    "sent Grace",
    "got Hello, Grace!",
    "sent Alan",
    "got Hello, Alan!",
  ]);
  assert.deepEqual(pageErrors, []);
});

test("the grpcio greeter: bidi ping-pong over the browser's WebSocket", async () => {
  const seen = await page.evaluate(`pingPong(${JSON.stringify(grpcioProxy.url)}, ["Ada", "Grace"])`);
  assert.deepEqual(seen, ["sent Ada", "got Hello, Ada!", "sent Grace", "got Hello, Grace!"]);
  assert.deepEqual(pageErrors, []);
});

test("grpc-js's TestService: every method kind over the WebSocket transport with gzip, metadata both ways", async () => {
  const outcome = await page.evaluate(
    `testServiceCalls(${JSON.stringify(testServiceProxy.url)}, ${JSON.stringify([...testServiceDescriptors()])})`,
  );
  assert.deepEqual(outcome, {
    unary: 7,
    serverStream: [1, 2],
    clientStream: 30_030,
    bidi: [4, 5, 6],
    echoed: { header: "from the page", trailer: "AAEC" },
    // The client stream's third request is the one large enough to compress; grpc-js took it.
    sentFlags: [0, 0, 1, 0, 0, 0],
  });
  // The bidi call reached the backend with the page's metadata, over the socket's first message.
  await testServiceLog.waitFor(
    (o) => o.method === "FullDuplexCall" && o.metadata[ECHO_INITIAL] === "from the page",
  );
  assert.deepEqual(pageErrors, []);
});

test("bidi endings in the page: 1,000 messages each way, a status mid-stream, a deadline, a refused origin", async () => {
  const startedBefore = backend.observations.length;
  const outcome = (await page.evaluate(
    `bidiEndings(${JSON.stringify(testServiceProxy.url)}, ${JSON.stringify([...testServiceDescriptors()])}, ${JSON.stringify(refusingProxy.url)})`,
  )) as { deadline: { sizes: number[]; code: Code; ms: number } };
  const { deadline, ...rest } = outcome;
  assert.deepEqual(rest, {
    thousandEachWay: { replies: 1000, sizesAsAsked: true },
    midStream: { sizes: [3], code: Code.FailedPrecondition, message: "stopped mid-stream" },
    // A browser shows a page no more of a refused upgrade than that the socket failed.
    refused: Code.Unavailable,
  });
  assert.deepEqual(deadline.sizes, [2]);
  assert.equal(deadline.code, Code.DeadlineExceeded);
  // Enforced near its 500 ms whatever the backend does; the bound is wide for a busy machine.
  assert.ok(deadline.ms >= 450 && deadline.ms < 5_000, `ended after ${deadline.ms} ms`);
  assert.equal(backend.observations.length, startedBefore, "the refused call reached no backend");
  assert.deepEqual(pageErrors, []);
});

test("abort in the page: CANCELLED there, and the backend's call ends", async () => {
  const code = await page.evaluate(`abortAfterFirstReply(${JSON.stringify(proxy.url)}, "browser-abort")`);
  assert.equal(code, Code.Canceled);
  // The page never finishes sending, so only the cancel can end the backend's call. connect-node ends its request
  // stream on the reset and records that as "finished"; the Node tests see grpc-js report it as a cancel.
  await backend.waitFor((o) => o.event !== "started" && o.metadata["x-case"] === "browser-abort");
  assert.deepEqual(pageErrors, []);
});

/** The TestService's file, for the page to build its client from. */
function testServiceDescriptors(): Uint8Array {
  return toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, { file: [grpcTesting().service.file.proto] }),
  );
}
