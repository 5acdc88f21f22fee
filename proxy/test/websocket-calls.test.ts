// gRPC over WebSocket through the proxy, over real sockets: the `ws` client (support/websocket-call.ts, which reads
// the server's messages as improbable's client does) against the proxy's own port, in front of @grpc/grpc-js's
// interop TestService, the connect-node greeter and the grpcio greeter. Every method kind, ping-pong, half-close,
// cancel and a vanished client reaching the backend, and each refusal docs/websocket.md lists.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../testing/net.js";
import { bearerAuth } from "../src/index.js";
import { ProxyOps } from "../src/ops/ops.js";
import { Code } from "../src/protocol/status.js";
import { CloseCode } from "../src/protocol/websocket/close-code.js";
import { GRPC_WEBSOCKETS } from "../src/protocol/websocket/subprotocol.js";
import { type Backend, type BackendKind, startBackend } from "./support/backends.js";
import { createTestCa } from "./support/certificates.js";
import { frame } from "./support/chunks.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import {
  decodeMessage,
  ECHO_INITIAL,
  ECHO_TRAILING,
  encodeMessage,
  grpcTesting,
  startInteropTestService,
} from "./support/interop-test-service.js";
import { type ObservationLog as Log, ObservationLog } from "./support/observations.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import {
  openWebSocketCall,
  readServerMessages,
  UpgradeRefused,
  type WebSocketCall,
} from "./support/websocket-call.js";

const GRPC_WEB = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };
const TEST_SERVICE = "/grpc.testing.TestService";
const GREETER = "/helloworld.Greeter";
const MAX_MESSAGE_BYTES = 64 * 1024;
const ALLOWED_ORIGIN = "https://app.example";
const TOKEN = "let-me-in";

const testing = grpcTesting();
const streamingOutput = (sizes: number[], status?: { code: number; message: string }) =>
  encodeMessage(testing.StreamingOutputCallRequest, {
    responseParameters: sizes.map((size) => ({ size })),
    ...(status && { responseStatus: status }),
  });
const payloadSizes = (messages: Buffer[]) =>
  messages.map(
    (m) =>
      (decodeMessage(testing.StreamingOutputCallResponse, m).payload as { body: Uint8Array }).body.length,
  );

/** What each open call has received so far. */
const received = new WeakMap<WebSocketCall, Buffer[]>();
/** The reply frames that reached the client so far. */
const repliesSoFar = (call: WebSocketCall) => readServerMessages(received.get(call) ?? []).messages;

/** Opens a call and keeps a copy of what arrives, so a test can wait for each reply before sending on. */
async function open(url: string, options: Parameters<typeof openWebSocketCall>[1] = {}) {
  const call = await openWebSocketCall(url, options);
  const messages: Buffer[] = [];
  call.socket.on("message", (data: Buffer) => messages.push(Buffer.from(data)));
  received.set(call, messages);
  return call;
}

const waitForReplies = (call: WebSocketCall, count: number) =>
  waitFor(() => (repliesSoFar(call).length >= count ? true : undefined), 5000);

let interopLog: Log;
let interop: { port: number; close(): Promise<void> };
let proxy: RunningProxy;

before(async () => {
  interopLog = new ObservationLog();
  interop = await startInteropTestService(interopLog);
  proxy = await startProxy(`http://127.0.0.1:${interop.port}`, {
    allowedOrigins: [ALLOWED_ORIGIN],
    maxMessageBytes: MAX_MESSAGE_BYTES,
    websocketFirstMessageTimeout: "300ms",
  });
});

after(async () => {
  await proxy?.close();
  await interop?.close();
});

const interopCall = (method: string, options?: Parameters<typeof openWebSocketCall>[1]) =>
  open(`${proxy.url}${TEST_SERVICE}/${method}`, options);

describe("WebSocket calls through the proxy to grpc-js's interop TestService", () => {
  test("bidi ping-pong: each reply arrives before the next request is sent; metadata both ways", async () => {
    const call = await interopCall("FullDuplexCall");
    assert.equal(call.protocol, GRPC_WEBSOCKETS);
    call.sendMetadata({ ...GRPC_WEB, [ECHO_INITIAL]: "hello", [ECHO_TRAILING]: "AAEC" });
    for (let i = 1; i <= 20; i++) {
      call.sendMessage(streamingOutput([i]));
      await waitForReplies(call, i);
    }
    call.finish();
    const result = await call.result;
    assert.deepEqual(
      payloadSizes(result.messages),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(result.headers?.[ECHO_INITIAL], "hello");
    assert.equal(result.trailers?.["grpc-status"], "0");
    assert.equal(result.trailers?.[ECHO_TRAILING], "AAEC");
    assert.equal(result.closeCode, CloseCode.NORMAL);
    await interopLog.waitFor((o) => o.method === "FullDuplexCall" && o.event === "finished");
  });

  test("client streaming: messages, finished sending, one aggregated reply", async () => {
    const call = await interopCall("StreamingInputCall");
    call.sendMetadata(GRPC_WEB);
    const sizes = [27182, 8, 1828, 45904];
    for (const size of sizes) {
      call.sendMessage(
        encodeMessage(testing.StreamingInputCallRequest, { payload: { body: new Uint8Array(size) } }),
      );
    }
    call.finish();
    const result = await call.result;
    assert.equal(result.trailers?.["grpc-status"], "0");
    assert.equal(result.messages.length, 1);
    const reply = decodeMessage(testing.StreamingInputCallResponse, result.messages[0] as Buffer);
    assert.equal(reply.aggregatedPayloadSize, 74922);
  });

  test("half duplex: replies come only after finished sending, the request half closed while replies flow", async () => {
    const call = await interopCall("HalfDuplexCall");
    call.sendMetadata(GRPC_WEB);
    call.sendMessage(streamingOutput([1, 2]));
    call.sendMessage(streamingOutput([3]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(repliesSoFar(call).length, 0, "HalfDuplexCall answers only once the request has ended");
    call.finish();
    const result = await call.result;
    assert.deepEqual(payloadSizes(result.messages), [1, 2, 3]);
    assert.equal(result.trailers?.["grpc-status"], "0");
  });

  test("server streaming and unary over WebSocket", async () => {
    const stream = await interopCall("StreamingOutputCall");
    stream.sendMetadata(GRPC_WEB);
    stream.sendMessage(streamingOutput([10, 20, 30]));
    stream.finish();
    const streamed = await stream.result;
    assert.deepEqual(payloadSizes(streamed.messages), [10, 20, 30]);
    assert.equal(streamed.trailers?.["grpc-status"], "0");

    const unary = await interopCall("UnaryCall");
    unary.sendMetadata(GRPC_WEB);
    unary.sendMessage(encodeMessage(testing.SimpleRequest, { responseSize: 314 }));
    unary.finish();
    const answered = await unary.result;
    assert.equal(answered.messages.length, 1);
    const reply = decodeMessage(testing.SimpleResponse, answered.messages[0] as Buffer);
    assert.equal((reply.payload as { body: Uint8Array }).body.length, 314);
    assert.equal(answered.trailers?.["grpc-status"], "0");
  });

  test("a backend error mid-stream: the replies before it, then its status in the trailers, close 1000", async () => {
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata(GRPC_WEB);
    call.sendMessage(streamingOutput([5]));
    await waitForReplies(call, 1);
    call.sendMessage(streamingOutput([], { code: Code.FAILED_PRECONDITION, message: "no more, 100% sure" }));
    // The client never finishes sending: the backend's end must end the call anyway.
    const result = await call.result;
    assert.deepEqual(payloadSizes(result.messages), [5]);
    assert.equal(result.trailers?.["grpc-status"], String(Code.FAILED_PRECONDITION));
    assert.equal(decodeURIComponent(result.trailers?.["grpc-message"] ?? ""), "no more, 100% sure");
    assert.equal(result.closeCode, CloseCode.NORMAL);
  });

  test("cancel mid-stream (the client closes) reaches the backend as a cancelled call", async () => {
    const before = interopLog.observations.length;
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata(GRPC_WEB);
    call.sendMessage(streamingOutput([1]));
    await waitForReplies(call, 1);
    call.socket.close();
    await call.result;
    await waitFor(() =>
      interopLog.observations
        .slice(before)
        .find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
    );
  });

  test("a client that vanishes mid-frame leaves no stream open upstream: the backend sees the cancel", async () => {
    const before = interopLog.observations.length;
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata(GRPC_WEB);
    call.sendMessage(streamingOutput([1]));
    await waitForReplies(call, 1);
    // Half a frame, then the TCP connection dies without a close frame.
    call.sendRaw(
      Buffer.concat([Buffer.from([0]), frame(0, Buffer.from(streamingOutput([2]))).subarray(0, 3)]),
    );
    call.socket.terminate();
    const result = await call.result;
    assert.equal(result.closeCode, 1006);
    const cancelled = await waitFor(() =>
      interopLog.observations
        .slice(before)
        .find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
    );
    assert.ok(cancelled);
    assert.equal(
      interopLog.observations.slice(before).filter((o) => o.event === "finished").length,
      0,
      "the backend never saw a whole call: no truncated message, no END_STREAM",
    );
  });

  test("the deadline (grpc-timeout in the first message) ends a call whose client never finishes", async () => {
    const before = interopLog.observations.length;
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata({ ...GRPC_WEB, "grpc-timeout": "300m" });
    call.sendMessage(streamingOutput([1]));
    const result = await call.result;
    assert.equal(result.trailers?.["grpc-status"], String(Code.DEADLINE_EXCEEDED));
    assert.equal(result.closeCode, CloseCode.NORMAL);
    const started = await interopLog.waitFor(
      (o) =>
        o.method === "FullDuplexCall" &&
        o.event === "started" &&
        interopLog.observations.indexOf(o) >= before,
    );
    assert.ok(started.timeoutMs !== undefined && started.timeoutMs <= 300, "the backend got the deadline");
    await waitFor(() => interopLog.observations.slice(before).find((o) => o.event === "cancelled"));
  });

  test("an oversized request message: RESOURCE_EXHAUSTED and 1009, nothing of it upstream", async () => {
    const before = interopLog.observations.length;
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata(GRPC_WEB);
    // The frame header announces more than the limit; the message itself fits ws's cap.
    const header = Buffer.alloc(6);
    header.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 2);
    call.sendRaw(header);
    const result = await call.result;
    assert.equal(result.trailers?.["grpc-status"], String(Code.RESOURCE_EXHAUSTED));
    assert.equal(result.closeCode, CloseCode.MESSAGE_TOO_BIG);
    await waitFor(() => interopLog.observations.slice(before).find((o) => o.event === "cancelled"));
  });

  test("a WebSocket message over the limit is never buffered: ws closes 1009 at once", async () => {
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata(GRPC_WEB);
    call.sendRaw(Buffer.alloc(1 + 5 + MAX_MESSAGE_BYTES + 1));
    const result = await call.result;
    assert.equal(result.closeCode, CloseCode.MESSAGE_TOO_BIG);
  });

  test("a first message that is not header lines (a gRPC frame first): INTERNAL and 1002, never forwarded", async () => {
    const before = interopLog.observations.length;
    const call = await interopCall("FullDuplexCall");
    call.sendMessage(streamingOutput([1]));
    const result = await call.result;
    assert.deepEqual(result.headers, {});
    assert.equal(result.trailers?.["grpc-status"], String(Code.INTERNAL));
    assert.match(decodeURIComponent(result.trailers?.["grpc-message"] ?? ""), /request metadata/);
    assert.equal(result.closeCode, CloseCode.PROTOCOL_ERROR);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(interopLog.observations.length, before);
  });

  test("a text message after the metadata: INTERNAL and 1003", async () => {
    const call = await interopCall("FullDuplexCall");
    call.sendMetadata(GRPC_WEB);
    call.sendRaw("hello");
    const result = await call.result;
    assert.equal(result.trailers?.["grpc-status"], String(Code.INTERNAL));
    assert.equal(result.closeCode, CloseCode.UNSUPPORTED_DATA);
  });

  test("no first message in time: DEADLINE_EXCEEDED and 1008", async () => {
    const call = await interopCall("FullDuplexCall");
    const result = await call.result;
    assert.equal(result.trailers?.["grpc-status"], String(Code.DEADLINE_EXCEEDED));
    assert.equal(result.closeCode, CloseCode.POLICY_VIOLATION);
  });

  test("a refused origin gets 403 before the upgrade; an allowed one and none get in", async () => {
    await assert.rejects(
      interopCall("FullDuplexCall", { origin: "https://evil.example" }),
      (error: unknown) => error instanceof UpgradeRefused && error.status === 403,
    );
    for (const origin of [ALLOWED_ORIGIN, proxy.url, undefined]) {
      const call = await interopCall("UnaryCall", origin === undefined ? {} : { origin });
      call.sendMetadata(GRPC_WEB);
      call.sendMessage(encodeMessage(testing.SimpleRequest, { responseSize: 1 }));
      call.finish();
      assert.equal((await call.result).trailers?.["grpc-status"], "0", `origin ${origin}`);
    }
  });

  test("a POST that asks for a WebSocket upgrade is served as the plain gRPC-Web call it is", async () => {
    const body = frame(0, Buffer.from(encodeMessage(testing.SimpleRequest, { responseSize: 3 })));
    const head =
      `POST ${TEST_SERVICE}/UnaryCall HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Content-Type: application/grpc-web+proto\r\nContent-Length: ${body.length}\r\n\r\n`;
    const socket = net.connect(Number(new URL(proxy.url).port), "127.0.0.1");
    socket.write(Buffer.concat([Buffer.from(head, "latin1"), body]));
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    await waitFor(() => (answer.includes("grpc-status:") ? true : undefined));
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /grpc-status:0/);
  });

  test("an upgrade without the grpc-websockets subprotocol gets 400 before the upgrade", async () => {
    await assert.rejects(
      interopCall("FullDuplexCall", { protocols: ["chat"] }),
      (error: unknown) => error instanceof UpgradeRefused && error.status === 400,
    );
    await assert.rejects(
      interopCall("FullDuplexCall", { protocols: [] }),
      (error: unknown) => error instanceof UpgradeRefused && error.status === 400,
    );
  });
});

describe("WebSocket calls with auth and limits", () => {
  let guarded: RunningProxy;
  let limited: RunningProxy;

  before(async () => {
    const backend = `http://127.0.0.1:${interop.port}`;
    guarded = await startProxy(backend, { interceptors: [bearerAuth({ tokens: [TOKEN] })] });
    limited = await startProxy(backend, { maxConcurrentCalls: 1 });
  });

  after(async () => {
    await guarded?.close();
    await limited?.close();
  });

  const guardedCall = () => open(`${guarded.url}${TEST_SERVICE}/FullDuplexCall`);
  const limitedCall = () => open(`${limited.url}${TEST_SERVICE}/FullDuplexCall`);

  test("the token travels in the first message; without it UNAUTHENTICATED, nothing forwarded", async () => {
    const before = interopLog.observations.length;
    const refused = await guardedCall();
    refused.sendMetadata(GRPC_WEB);
    refused.sendMessage(streamingOutput([1]));
    refused.finish();
    const result = await refused.result;
    assert.deepEqual(result.headers, {});
    assert.equal(result.trailers?.["grpc-status"], String(Code.UNAUTHENTICATED));
    assert.equal(result.closeCode, CloseCode.NORMAL);
    assert.equal(interopLog.observations.length, before);

    const allowed = await guardedCall();
    allowed.sendMetadata({ ...GRPC_WEB, authorization: `Bearer ${TOKEN}` });
    allowed.sendMessage(streamingOutput([7]));
    allowed.finish();
    const ok = await allowed.result;
    assert.deepEqual(payloadSizes(ok.messages), [7]);
    assert.equal(ok.trailers?.["grpc-status"], "0");
  });

  test("a call counts from its upgrade to its close: a second is RESOURCE_EXHAUSTED, a third after the first works", async () => {
    const first = await limitedCall();
    const second = await limitedCall();
    const refused = await second.result;
    assert.equal(refused.trailers?.["grpc-status"], String(Code.RESOURCE_EXHAUSTED));
    first.socket.close();
    await first.result;
    const third = await waitFor(async () => {
      const call = await limitedCall();
      call.sendMetadata(GRPC_WEB);
      call.finish();
      const result = await call.result;
      return result.trailers?.["grpc-status"] === "0" ? result : undefined;
    });
    assert.equal(third.closeCode, CloseCode.NORMAL);
  });
});

describe("WebSocket calls over TLS (wss://)", () => {
  test("a TLS port takes the upgrade over HTTP/1.1 next to HTTP/2: a bidi call with a same-origin page", async () => {
    const ca = createTestCa();
    const files = ca.issue("proxy", "proxy", ["IP:127.0.0.1"]);
    const secure = await startProxy(`http://127.0.0.1:${interop.port}`, { tls: files });
    try {
      const origin = secure.url.replace("http:", "https:");
      const call = await open(`${origin}${TEST_SERVICE}/FullDuplexCall`, {
        origin,
        ca: readFileSync(ca.certFile),
      });
      call.sendMetadata(GRPC_WEB);
      call.sendMessage(streamingOutput([2]));
      await waitForReplies(call, 1);
      call.sendMessage(streamingOutput([4]));
      call.finish();
      const result = await call.result;
      assert.deepEqual(payloadSizes(result.messages), [2, 4]);
      assert.equal(result.trailers?.["grpc-status"], "0");
      assert.equal(result.closeCode, CloseCode.NORMAL);
    } finally {
      await secure.close();
      ca.remove();
    }
  });
});

describe("WebSocket calls: drain and pings", () => {
  test("a drain ends a call in flight UNAVAILABLE with 1001; a call opened during it is refused the same way", async () => {
    const ops = new ProxyOps({ processMetrics: false });
    const draining = await startProxy(`http://127.0.0.1:${interop.port}`, { ops });
    try {
      const url = `${draining.url}${TEST_SERVICE}/FullDuplexCall`;
      const inFlight = await open(url);
      inFlight.sendMetadata(GRPC_WEB);
      inFlight.sendMessage(streamingOutput([1]));
      await waitForReplies(inFlight, 1);
      const drained = ops.drain(200);
      const late = await open(url);
      const refused = await late.result;
      assert.equal(refused.trailers?.["grpc-status"], String(Code.UNAVAILABLE));
      assert.equal(refused.closeCode, CloseCode.GOING_AWAY);
      assert.equal(await drained, 1, "the drain time ran out on the call in flight");
      const ended = await inFlight.result;
      assert.deepEqual(payloadSizes(ended.messages), [1]);
      assert.equal(ended.trailers?.["grpc-status"], String(Code.UNAVAILABLE));
      assert.equal(ended.closeCode, CloseCode.GOING_AWAY);
    } finally {
      await draining.close();
    }
  });

  test("pings keep a quiet call open; a peer that stops answering them is cut off and its call cancelled", async () => {
    const pinging = await startProxy(`http://127.0.0.1:${interop.port}`, { websocketPingInterval: "100ms" });
    try {
      const url = `${pinging.url}${TEST_SERVICE}/FullDuplexCall`;
      const quiet = await open(url);
      quiet.sendMetadata(GRPC_WEB);
      await new Promise((resolve) => setTimeout(resolve, 450));
      quiet.sendMessage(streamingOutput([3]));
      await waitForReplies(quiet, 1);
      quiet.finish();
      assert.equal(
        (await quiet.result).trailers?.["grpc-status"],
        "0",
        "answered pings: still open after 4 intervals",
      );

      const before = interopLog.observations.length;
      const silent = await open(url, { autoPong: false });
      silent.sendMetadata(GRPC_WEB);
      silent.sendMessage(streamingOutput([1]));
      await waitForReplies(silent, 1);
      const result = await silent.result;
      assert.equal(result.closeCode, 1006, "terminated without a close frame");
      await waitFor(() =>
        interopLog.observations
          .slice(before)
          .find((o) => o.method === "FullDuplexCall" && o.event === "cancelled"),
      );
    } finally {
      await pinging.close();
    }
  });
});

describe("WebSocket bidi calls to the greeters", () => {
  for (const kind of ["connect-node", "grpcio"] as BackendKind[]) {
    test(`${kind}: SayHelloBidiStream ping-pong, each greeting before the next name`, async () => {
      const backend: Backend = await startBackend(kind);
      const front = await startProxy(backend.url);
      try {
        const call = await open(`${front.url}${GREETER}/SayHelloBidiStream`);
        call.sendMetadata(GRPC_WEB);
        const names = ["Ada", "Grace", "Barbara", "Frances", "Radia"];
        for (const [i, name] of names.entries()) {
          call.sendMessage(helloRequest(name));
          await waitForReplies(call, i + 1);
        }
        call.finish();
        const result = await call.result;
        assert.deepEqual(
          helloReplies(result.messages.map((data) => ({ data }))),
          names.map((name) => `Hello, ${name}!`),
        );
        assert.equal(result.trailers?.["grpc-status"], "0");
        assert.equal(result.closeCode, CloseCode.NORMAL);
        await backend.waitFor((o) => o.method === "SayHelloBidiStream" && o.event === "finished");
      } finally {
        await front.close();
        await backend.close();
      }
    });
  }
});
