// The malformed-input corpus (proxy/test/corpus/*.json) against the live proxy over raw TCP: every case gets the
// answer written next to it, reaches the backend only when it says so, and leaves the proxy serving: the same
// connection (when kept open) and a new one both carry a good call, and a stream in flight all along never notices.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { HelloReplySchema } from "@grpc-web-bridge/client-web/greeter";
import { type Backend, type Observation, startBackend } from "./support/backends.js";
import { type CorpusCase, isHead, loadCorpus, requestBytes } from "./support/corpus.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { framedHelloRequest, helloReplies, helloRequest } from "./support/hello-messages.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { RawHttpConnection, type RawResponse } from "./support/raw-http.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const GOOD_REQUEST = Buffer.concat([
  Buffer.from(
    `POST ${SAY_HELLO} HTTP/1.1\r\nHost: proxy.test\r\nContent-Type: application/grpc-web+proto\r\nContent-Length: 10\r\n\r\n`,
    "latin1",
  ),
  framedHelloRequest("Ada"),
]);

function assertGoodCall(response: RawResponse | undefined, what: string): void {
  assert.ok(response, `${what}: no response`);
  assert.equal(response.status, 200, what);
  assert.equal(response.grpcStatus, 0, `${what}: ${response.grpcMessage}`);
  assert.equal(replyOf(response), "Hello, Ada!", what);
}

function replyOf(response: RawResponse): string | undefined {
  const [first] = response.messages;
  return first === undefined ? undefined : fromBinary(HelloReplySchema, first).message;
}

describe("malformed-input corpus", () => {
  let backend: Backend;
  let proxy: RunningProxy;
  let port: number;
  const background = new AbortController();
  let backgroundEnded = false;
  let backgroundCall: Promise<unknown>;

  before(async () => {
    backend = await startBackend("connect-node");
    proxy = await startProxy(backend.url, {
      maxMessageBytes: 64 * 1024,
      allowedOrigins: ["http://app.test"],
    });
    port = Number(new URL(proxy.url).port);
    // A long stream on the same upstream session as every case: a bad request must never disturb it.
    backgroundCall = grpcWebCall(proxy.url, "/helloworld.Greeter/SayHelloStreamReply", {
      message: helloRequest("background"),
      headers: { "x-stream-count": "100000", "x-stream-interval-ms": "20" },
      signal: background.signal,
    }).then(
      () => {
        backgroundEnded = true;
      },
      () => {},
    );
    await backend.waitFor((o) => o.method === "SayHelloStreamReply" && o.event === "started");
  });
  after(async () => {
    background.abort();
    await backgroundCall;
    await proxy?.close();
    await backend?.close();
  });

  const started = () => backend.observations.filter((o) => o.event === "started").length;

  async function run(c: CorpusCase): Promise<void> {
    const { expect } = c;
    const before = started();
    const connection = await RawHttpConnection.open(port);
    try {
      connection.send(requestBytes(c));
      const response = await connection.readResponse(isHead(c));
      if (expect.http === "none") assert.equal(response, undefined, "no response at all");
      else checkResponse(response, c);
      let goodCalls = 0;
      if (expect.closes) {
        assert.ok(await connection.closesWithin(2000), "the proxy closes the connection");
      } else {
        connection.send(GOOD_REQUEST);
        assertGoodCall(await connection.readResponse(), "a good call on the same connection");
        goodCalls++;
      }
      const fresh = await grpcWebCall(proxy.url, SAY_HELLO, { message: helloRequest("Ada") });
      assert.equal(fresh.grpcStatus, 0, `a good call on a new connection: ${fresh.grpcMessage}`);
      assert.deepEqual(helloReplies(fresh.messages), ["Hello, Ada!"]);
      goodCalls++;
      // The good calls ride the same upstream session after the case, so a forwarded case is counted by now.
      const forwarded = started() - before - goodCalls;
      if (expect.forwarded !== "either")
        assert.equal(forwarded, expect.forwarded ? 1 : 0, "calls the backend saw");
      if (expect.upstreamLacks) checkUpstreamLacks(before, expect.upstreamLacks);
    } finally {
      connection.destroy();
    }
  }

  function checkResponse(response: RawResponse | undefined, { expect }: CorpusCase): void {
    assert.ok(response, "a response");
    const detail = `HTTP ${response.status}, grpc-status ${response.grpcStatus} ${response.grpcMessage ?? ""}`;
    assert.equal(response.status, expect.http, detail);
    if (expect.grpcStatus !== undefined) assert.equal(response.grpcStatus, expect.grpcStatus, detail);
    if (expect.reply !== undefined) assert.equal(replyOf(response), expect.reply);
    for (const [name, value] of Object.entries(expect.headers ?? {})) {
      assert.equal(response.headers[name], value ?? undefined, `response header ${name}`);
    }
  }

  function checkUpstreamLacks(from: number, names: readonly string[]): void {
    const seen = backend.observations.filter((o) => o.event === "started").slice(from)[0];
    assert.ok(seen, "the backend saw the call");
    for (const name of names) assert.equal(seen.metadata[name], undefined, `${name} reached the backend`);
  }

  for (const file of loadCorpus()) {
    describe(`${file.file}: ${file.about}`, () => {
      for (const c of file.cases) test(c.name, () => run(c));
    });
  }

  test("the stream in flight through every case ran on until its client cancelled it", async () => {
    const streamEnd = (o: Observation) => o.method === "SayHelloStreamReply" && o.event !== "started";
    assert.equal(backgroundEnded, false, "the browser side is still open");
    assert.equal(backend.observations.find(streamEnd), undefined, "the backend side is still open");
    background.abort();
    assert.equal((await backend.waitFor(streamEnd)).event, "cancelled");
  });
});
