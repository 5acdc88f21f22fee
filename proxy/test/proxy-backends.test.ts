// The proxy between a gRPC-Web client and each of three real HTTP/2 gRPC
// backends: connect-node, grpc-js and Python's C-core grpcio.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema, HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { type Backend, backendKinds, startBackend } from "./support/backends.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const STREAM = "/helloworld.Greeter/SayHelloStreamReply";

function hello(name: string): Uint8Array {
  return toBinary(HelloRequestSchema, create(HelloRequestSchema, { name }));
}

function replies(result: { messages: Array<{ data: Buffer }> }): string[] {
  return result.messages.map((m) => fromBinary(HelloReplySchema, m.data).message);
}

for (const kind of backendKinds) {
  describe(`through the proxy to ${kind}`, () => {
    let backend: Backend;
    let proxy: RunningProxy;
    before(async () => {
      backend = await startBackend(kind);
      proxy = await startProxy(backend.url);
    });
    after(async () => {
      await proxy?.close();
      await backend?.close();
    });

    for (const text of [false, true]) {
      const mode = text ? "text" : "binary";

      test(`${mode}: unary call`, async () => {
        const result = await grpcWebCall(proxy.url, SAY_HELLO, { message: hello("Ada"), text });
        assert.equal(result.status, 200);
        assert.equal(result.grpcStatus, 0);
        assert.deepEqual(replies(result), ["Hello, Ada!"]);
        assert.equal(result.trailerFrameCount, 1);
        const expected = text ? /^application\/grpc-web-text/ : /^application\/grpc-web(\+proto)?$/;
        assert.match(String(result.headers["content-type"]), expected);
      });

      test(`${mode}: server stream arrives message by message`, async () => {
        const result = await grpcWebCall(proxy.url, STREAM, {
          message: hello("Ada"),
          text,
          headers: { "x-stream-count": "3", "x-stream-interval-ms": "150" },
        });
        assert.equal(result.grpcStatus, 0);
        assert.deepEqual(replies(result), ["Hello, Ada! #1", "Hello, Ada! #2", "Hello, Ada! #3"]);
        const [first, , last] = result.messages.map((m) => m.at);
        // The first message reached the client while the backend was still 300 ms from sending the last.
        assert.ok((last as number) - (first as number) >= 250, `first at ${first} ms, last at ${last} ms`);
      });

      test(`${mode}: metadata both ways, ASCII and -bin, as headers and trailers`, async () => {
        const bin = Buffer.from([0, 1, 2, 250, 255]).toString("base64");
        const result = await grpcWebCall(proxy.url, SAY_HELLO, {
          message: hello("Ada"),
          text,
          headers: { "x-echo-user": "ada", "x-echo-data-bin": bin },
        });
        assert.equal(result.grpcStatus, 0);
        assert.equal(result.headers["x-echo-user"], "ada");
        assert.deepEqual(
          Buffer.from(String(result.headers["x-echo-data-bin"]), "base64"),
          Buffer.from(bin, "base64"),
        );
        assert.equal(result.trailers?.["x-trailer-user"], "ada");
        assert.deepEqual(
          Buffer.from(String(result.trailers?.["x-trailer-data-bin"]), "base64"),
          Buffer.from(bin, "base64"),
        );
      });
    }

    test("the backend learns the browser's address, host and scheme", async () => {
      const result = await grpcWebCall(proxy.url, SAY_HELLO, {
        message: hello("Ada"),
        headers: { "x-echo-tag": "forwarded" },
      });
      assert.equal(result.grpcStatus, 0);
      const seen = await backend.waitFor(
        (o) => o.event === "started" && o.metadata["x-echo-tag"] === "forwarded",
      );
      assert.equal(seen.metadata["x-forwarded-for"], "127.0.0.1");
      assert.equal(seen.metadata["x-forwarded-host"], new URL(proxy.url).host);
      assert.equal(seen.metadata["x-forwarded-proto"], "http");
    });

    test("an error with a non-ASCII message is a Trailers-Only response", async () => {
      const message = "żółw ✓ 100%";
      const result = await grpcWebCall(proxy.url, SAY_HELLO, {
        message: hello("Ada"),
        headers: { "x-fail-code": "9", "x-fail-message": encodeURIComponent(message) },
      });
      assert.equal(result.status, 200);
      assert.equal(result.headers["grpc-status"], "9");
      assert.equal(result.grpcMessage, message);
      assert.equal(result.rawBody.length, 0, "no body, and no empty trailer frame");
    });

    test("an error after stream messages comes in the trailer frame", async () => {
      const result = await grpcWebCall(proxy.url, STREAM, {
        message: hello("Ada"),
        headers: {
          "x-stream-count": "5",
          "x-fail-after": "2",
          "x-fail-code": "10",
          "x-fail-message": "stop",
        },
      });
      assert.equal(replies(result).length, 2);
      assert.equal(result.trailers?.["grpc-status"], "10");
      assert.equal(result.grpcMessage, "stop");
    });

    test("an empty message and an empty stream", async () => {
      const unary = await grpcWebCall(proxy.url, SAY_HELLO, {
        message: hello("Ada"),
        headers: { "x-empty": "1" },
      });
      assert.equal(unary.grpcStatus, 0);
      assert.equal(unary.messages.length, 1);
      assert.equal(unary.messages[0]?.data.length, 0);
      const stream = await grpcWebCall(proxy.url, STREAM, {
        message: hello("Ada"),
        headers: { "x-empty": "1" },
      });
      assert.equal(stream.grpcStatus, 0);
      assert.equal(stream.messages.length, 0);
    });

    test("an unknown method is UNIMPLEMENTED", async () => {
      const result = await grpcWebCall(proxy.url, "/helloworld.Greeter/Nope", { message: hello("Ada") });
      assert.equal(result.grpcStatus, 12);
    });

    test("a deadline ends the call with DEADLINE_EXCEEDED and the backend sees the cancel", async () => {
      const started = performance.now();
      const result = await grpcWebCall(proxy.url, SAY_HELLO, {
        message: hello("deadline"),
        headers: { "grpc-timeout": "200m", "x-sleep-ms": "5000" },
      });
      assert.equal(result.grpcStatus, 4);
      assert.ok(performance.now() - started < 2000);
      await backend.waitFor((o) => o.event === "cancelled" && o.metadata["x-sleep-ms"] === "5000", 2000);
    });

    test("a client abort cancels the backend call within a second", async () => {
      const abort = new AbortController();
      const call = grpcWebCall(proxy.url, STREAM, {
        message: hello("abort"),
        headers: { "x-stream-count": "100", "x-stream-interval-ms": "50", "x-echo-tag": "abort-test" },
        signal: abort.signal,
      }).catch((error: Error) => error);
      await backend.waitFor((o) => o.event === "started" && o.metadata["x-echo-tag"] === "abort-test", 2000);
      abort.abort();
      await call;
      await backend.waitFor(
        (o) => o.event === "cancelled" && o.metadata["x-echo-tag"] === "abort-test",
        1000,
      );
    });

    test("4 MiB messages both ways", async () => {
      const size = 4 * 1024 * 1024 - 64;
      const result = await grpcWebCall(proxy.url, SAY_HELLO, {
        message: hello("x".repeat(size)),
        headers: { "x-reply-bytes": String(size) },
      });
      assert.equal(result.grpcStatus, 0, result.grpcMessage);
      assert.equal(replies(result)[0]?.length, size);
    });

    test("100 concurrent calls all succeed", async () => {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => grpcWebCall(proxy.url, SAY_HELLO, { message: hello(`n${i}`) })),
      );
      assert.deepEqual(
        results.map((r) => replies(r)[0]),
        results.map((_, i) => `Hello, n${i}!`),
      );
    });
  });
}
