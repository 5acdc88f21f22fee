// The test helpers themselves: each backend checked natively (no proxy), the raw gRPC-Web client
// against connect-node's own gRPC-Web server, and the raw upstream.
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../testing/net.js";
import { type Backend, backendKinds, startBackend } from "./support/backends.js";
import { frame, oneByteAtATime } from "./support/chunks.js";
import { startConnectGrpcWebServer } from "./support/connect-node-backend.js";
import { Base64Quanta, WebBodyParser } from "./support/grpc-web-body.js";
import { grpcWebCall, IncompleteResponseError } from "./support/grpc-web-client.js";
import { startTextRelay } from "./support/grpc-web-text-relay.js";
import { h2GrpcCall } from "./support/h2-grpc-call.js";
import type { Listener } from "./support/h2c-server.js";
import { framedHelloRequest, helloReplies, helloRequest } from "./support/hello-messages.js";
import { createNativeClient, type NativeClient } from "./support/native-client.js";
import { ObservationLog } from "./support/observations.js";
import { startRawUpstream } from "./support/raw-upstream.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";
const NON_ASCII = "żółw ✓ 100%";
const BIN = Buffer.from([0, 1, 2, 250, 255]);

const messages = (result: { replies: Array<{ message: string }> }) => result.replies.map((r) => r.message);

for (const kind of backendKinds) {
  describe(`${kind} backend, called natively`, () => {
    let backend: Backend;
    let client: NativeClient;
    before(async () => {
      backend = await startBackend(kind);
      client = createNativeClient(backend.url);
    });
    after(async () => {
      client?.close();
      await backend?.close();
    });

    test("unary greets, and the call is observed from start to finish", async () => {
      const result = await client.call("SayHello", "Ada", { metadata: { "x-tag": "unary" } });
      assert.equal(result.status.code, 0);
      assert.deepEqual(messages(result), ["Hello, Ada!"]);
      const started = await backend.waitFor((o) => o.metadata["x-tag"] === "unary" && o.event === "started");
      assert.equal(started.method, "SayHello");
      assert.equal(started.timeoutMs, undefined);
      await backend.waitFor((o) => o.metadata["x-tag"] === "unary" && o.event === "finished");
    });

    test("a stream sends x-stream-count messages x-stream-interval-ms apart", async () => {
      const result = await client.call("SayHelloStreamReply", "Ada", {
        metadata: { "x-stream-count": "4", "x-stream-interval-ms": "100" },
      });
      assert.equal(result.status.code, 0);
      assert.deepEqual(messages(result), [
        "Hello, Ada! #1",
        "Hello, Ada! #2",
        "Hello, Ada! #3",
        "Hello, Ada! #4",
      ]);
      // Each reply arrived on its own (an arrival time of its own), which a backend that sent them together would
      // not give; the gaps themselves depend on how loaded the machine is.
      const arrivals = result.replies.map((r) => r.at);
      assert.ok(
        arrivals.every((at, i) => i === 0 || at > (arrivals[i - 1] as number)),
        `at ${arrivals.join(", ")} ms`,
      );
      const defaults = await client.call("SayHelloStreamReply", "Bo");
      assert.deepEqual(messages(defaults), ["Hello, Bo! #1", "Hello, Bo! #2", "Hello, Bo! #3"]);
    });

    test("x-echo-* comes back as a header and as x-trailer-*, ASCII and -bin", async () => {
      for (const method of ["SayHello", "SayHelloStreamReply"] as const) {
        const result = await client.call(method, "Ada", {
          metadata: { "x-echo-user": "ada", "x-echo-data-bin": BIN },
        });
        assert.equal(result.status.code, 0);
        assert.deepEqual(result.headers.get("x-echo-user"), ["ada"], method);
        assert.deepEqual(result.headers.get("x-echo-data-bin"), [BIN], method);
        assert.deepEqual(result.status.metadata.get("x-trailer-user"), ["ada"], method);
        assert.deepEqual(result.status.metadata.get("x-trailer-data-bin"), [BIN], method);
      }
      const seen = await backend.waitFor((o) => o.metadata["x-echo-user"] === "ada");
      assert.equal(seen.metadata["x-echo-data-bin"], BIN.toString("base64"));
    });

    test("a failure before any message is Trailers-Only, with a non-ASCII message", async () => {
      const fail = {
        "x-fail-code": "9",
        "x-fail-message": encodeURIComponent(NON_ASCII),
        "x-echo-user": "ada",
      };
      const result = await client.call("SayHello", "Ada", { metadata: fail });
      assert.equal(result.status.code, 9);
      assert.equal(result.status.details, NON_ASCII);
      const wire = await h2GrpcCall(backend.url, SAY_HELLO, framedHelloRequest("Ada"), fail);
      assert.ok(wire.trailersOnly, "one HEADERS frame with END_STREAM");
      assert.equal(wire.headers["grpc-status"], "9");
      assert.equal(wire.headers["x-echo-user"], "ada");
      assert.equal(wire.headers["x-trailer-user"], "ada");
      assert.equal(wire.body.length, 0);
    });

    test("x-fail-after: the stream fails after that many messages, in trailers after the data", async () => {
      const fail = {
        "x-stream-count": "5",
        "x-fail-after": "2",
        "x-fail-code": "10",
        "x-fail-message": "stop",
      };
      const result = await client.call("SayHelloStreamReply", "Ada", { metadata: fail });
      assert.deepEqual(messages(result), ["Hello, Ada! #1", "Hello, Ada! #2"]);
      assert.equal(result.status.code, 10);
      assert.equal(result.status.details, "stop");
      const wire = await h2GrpcCall(backend.url, STREAM, framedHelloRequest("Ada"), fail);
      assert.ok(!wire.trailersOnly);
      assert.equal(wire.trailers?.["grpc-status"], "10");
    });

    test("a client cancel during x-sleep-ms is observed as cancelled within a second", async () => {
      const abort = new AbortController();
      const call = client.call("SayHello", "Ada", {
        metadata: { "x-sleep-ms": "10000", "x-tag": "cancel" },
        signal: abort.signal,
      });
      await backend.waitFor((o) => o.metadata["x-tag"] === "cancel" && o.event === "started");
      const cancelledAt = performance.now();
      abort.abort();
      assert.equal((await call).status.code, 1);
      await backend.waitFor((o) => o.metadata["x-tag"] === "cancel" && o.event === "cancelled", 1000);
      assert.ok(performance.now() - cancelledAt < 1000);
      assert.ok(
        !backend.observations.some((o) => o.metadata["x-tag"] === "cancel" && o.event === "finished"),
      );
    });

    test("a passed deadline is observed as cancelled, and the timeout is recorded", async () => {
      const result = await client.call("SayHelloStreamReply", "Ada", {
        metadata: { "x-sleep-ms": "10000", "x-tag": "deadline" },
        deadlineMs: 300,
      });
      assert.equal(result.status.code, 4);
      const started = await backend.waitFor(
        (o) => o.metadata["x-tag"] === "deadline" && o.event === "started",
      );
      assert.ok(
        started.timeoutMs !== undefined && started.timeoutMs > 100 && started.timeoutMs <= 300,
        `${started.timeoutMs}`,
      );
      await backend.waitFor((o) => o.metadata["x-tag"] === "deadline" && o.event === "cancelled", 1000);
    });

    test("x-reply-bytes: a 4 MiB reply", async () => {
      const size = 4 * 1024 * 1024;
      const result = await client.call("SayHello", "Ada", { metadata: { "x-reply-bytes": String(size) } });
      assert.equal(result.status.code, 0, result.status.details);
      assert.equal(result.replies[0]?.message.length, size);
      assert.match(result.replies[0]?.message ?? "", /^x+$/);
    });

    test("a request message over 4 MiB is RESOURCE_EXHAUSTED", async () => {
      const result = await client.call("SayHello", "x".repeat(4 * 1024 * 1024));
      assert.equal(result.status.code, 8, result.status.details);
    });

    test("x-empty: a zero-length reply, and a stream of no messages (Trailers-Only)", async () => {
      const unary = await h2GrpcCall(backend.url, SAY_HELLO, framedHelloRequest("Ada"), { "x-empty": "1" });
      assert.deepEqual(unary.body, Buffer.from([0, 0, 0, 0, 0]));
      assert.equal(unary.trailers?.["grpc-status"], "0");
      const stream = await h2GrpcCall(backend.url, STREAM, framedHelloRequest("Ada"), { "x-empty": "1" });
      assert.ok(stream.trailersOnly);
      assert.equal(stream.headers["grpc-status"], "0");
    });

    test("bidi greets every request message", async () => {
      const result = await client.bidi(["Ada", "Bo", "Cy"]);
      assert.equal(result.status.code, 0);
      assert.deepEqual(messages(result), ["Hello, Ada!", "Hello, Bo!", "Hello, Cy!"]);
    });

    test("an unknown method is UNIMPLEMENTED, Trailers-Only", async () => {
      const wire = await h2GrpcCall(backend.url, "/helloworld.Greeter/Nope", framedHelloRequest("Ada"));
      assert.ok(wire.trailersOnly);
      assert.equal(wire.headers["grpc-status"], "12");
    });
  });

  test(`${kind} backend restarts on the same port, and close() frees it`, async () => {
    const first = await startBackend(kind);
    await first.close();
    const second = await startBackend(kind, first.port);
    const client = createNativeClient(second.url);
    try {
      assert.equal(second.port, first.port);
      assert.deepEqual(messages(await client.call("SayHello", "again")), ["Hello, again!"]);
    } finally {
      client.close();
      await second.close();
    }
  });
}

describe("raw gRPC-Web client against connect-node's own gRPC-Web server (HTTP/1.1)", () => {
  let binary: Listener & { url: string };
  let textRelay: Listener & { url: string };
  before(async () => {
    binary = await startConnectGrpcWebServer(new ObservationLog());
    textRelay = await startTextRelay(binary.url);
  });
  after(async () => {
    await textRelay?.close();
    await binary?.close();
  });

  for (const text of [false, true]) {
    const mode = text ? "text (through the re-encoding relay)" : "binary";

    test(`${mode}: unary, with echoed -bin header and trailer`, async () => {
      const result = await grpcWebCall(text ? textRelay.url : binary.url, SAY_HELLO, {
        message: helloRequest("Ada"),
        text,
        headers: { "x-echo-data-bin": BIN.toString("base64") },
      });
      assert.equal(result.status, 200);
      assert.match(
        String(result.headers["content-type"]),
        text ? /^application\/grpc-web-text/ : /^application\/grpc-web\+proto/,
      );
      assert.deepEqual(helloReplies(result.messages), ["Hello, Ada!"]);
      assert.equal(result.trailerFrameCount, 1);
      assert.equal(result.grpcStatus, 0);
      assert.deepEqual(Buffer.from(String(result.headers["x-echo-data-bin"]), "base64"), BIN);
      assert.deepEqual(Buffer.from(result.trailers?.["x-trailer-data-bin"] ?? "", "base64"), BIN);
    });

    test(`${mode}: stream messages are parsed as they arrive`, async () => {
      const result = await grpcWebCall(text ? textRelay.url : binary.url, STREAM, {
        message: helloRequest("Ada"),
        text,
        headers: { "x-stream-count": "3", "x-stream-interval-ms": "300" },
      });
      assert.deepEqual(helloReplies(result.messages), ["Hello, Ada! #1", "Hello, Ada! #2", "Hello, Ada! #3"]);
      // Each message is parsed from the bytes that brought it, so each has its own arrival time; a parser that
      // waited for the end of the body would give them all one. (Not a measure of the gaps: a loaded machine
      // stretches and squeezes them.)
      const [first = 0, second = 0, last = 0] = result.messages.map((m) => m.at);
      assert.ok(first < second && second < last, `at ${first}, ${second} and ${last} ms`);
    });

    test(`${mode}: an error with a non-ASCII message`, async () => {
      const result = await grpcWebCall(text ? textRelay.url : binary.url, STREAM, {
        message: helloRequest("Ada"),
        text,
        headers: { "x-fail-after": "1", "x-fail-code": "9", "x-fail-message": encodeURIComponent(NON_ASCII) },
      });
      assert.equal(result.messages.length, 1);
      assert.equal(result.grpcStatus, 9);
      assert.equal(result.grpcMessage, NON_ASCII);
    });
  }
});

test("the response parser takes base64 padded between frames, one byte at a time", () => {
  const frames = [frame(0, "hi"), frame(0, ""), frame(0x80, "grpc-status: 0\r\nGrpc-Message:ok")];
  const text = Buffer.from(frames.map((f) => f.toString("base64")).join(""));
  assert.match(text.toString(), /=.+/, "padding inside the text");
  const base64 = new Base64Quanta();
  const reader = new WebBodyParser();
  for (const byte of oneByteAtATime(text)) reader.push(base64.push(byte.toString("latin1")), 0);
  assert.deepEqual(
    reader.messages.map((m) => m.data.toString()),
    ["hi", ""],
  );
  assert.deepEqual(reader.trailers, { "grpc-status": "0", "grpc-message": "ok" });
  assert.equal(reader.trailerFrameCount, 1);
  assert.equal(reader.end(), undefined);
});

test("the response parser rejects bytes left over at the end, and any frame after the trailer frame", () => {
  const trailer = frame(0x80, "grpc-status:0");
  const cut = new WebBodyParser();
  cut.push(Buffer.concat([frame(0, "hi"), frame(0, "hello").subarray(0, 7)]), 0);
  assert.equal(cut.leftover, 7);
  assert.equal(cut.end(), "response ended inside a frame");
  for (const late of [frame(0, "late"), trailer]) {
    const parser = new WebBodyParser();
    parser.push(Buffer.concat([frame(0, "hi"), trailer, late]), 0);
    assert.deepEqual(
      parser.messages.map((m) => m.data.toString()),
      ["hi"],
    );
    assert.equal(parser.trailerFrameCount, 1);
    assert.equal(parser.end(), "frame after the trailer frame");
  }
});

describe("raw upstream", () => {
  test("hands each stream to the handler and counts sessions", async () => {
    const upstream = await startRawUpstream((stream, headers) => {
      stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "0",
          "x-path": headers[":path"],
        },
        { endStream: true },
      );
    });
    try {
      const first = await h2GrpcCall(upstream.url, SAY_HELLO, Buffer.alloc(0));
      assert.ok(first.trailersOnly);
      assert.equal(first.headers["x-path"], SAY_HELLO);
      await h2GrpcCall(upstream.url, SAY_HELLO, Buffer.alloc(0));
      assert.equal(upstream.sessions.length, 2, "h2GrpcCall opens a session per call");
    } finally {
      await upstream.close();
    }
  });

  test("RST_STREAM with a chosen code reaches the client", async () => {
    const upstream = await startRawUpstream((stream) =>
      stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM),
    );
    try {
      const reply = await h2GrpcCall(upstream.url, SAY_HELLO, Buffer.alloc(0));
      assert.equal(reply.rstCode, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    } finally {
      await upstream.close();
    }
  });

  test("close() ends a stream that stalls forever", async () => {
    let arrived = false;
    const upstream = await startRawUpstream(() => {
      arrived = true;
    });
    const reply = h2GrpcCall(upstream.url, SAY_HELLO, Buffer.alloc(0));
    await waitFor(() => (arrived ? true : undefined));
    await upstream.close();
    assert.equal((await reply).headers[":status"], undefined);
  });

  test("a connection cut inside the body rejects grpcWebCall with what came", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/grpc-web+proto" });
      res.write(framedHelloRequest("half").subarray(0, 7), () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address() as { port: number };
      const error = await grpcWebCall(`http://127.0.0.1:${address.port}`, SAY_HELLO, {
        message: helloRequest("x"),
      }).catch((e: unknown) => e);
      assert.ok(error instanceof IncompleteResponseError, String(error));
      assert.equal(error.partial.rawBody.length, 7);
      assert.equal(error.partial.messages.length, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
