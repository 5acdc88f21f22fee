// The limits that only HTTP/2 browser connections can reach: calls per connection (advertised in SETTINGS, so
// clients queue; the proxy's own count refuses a client that does not), and header bytes
// (Node's HTTP/2 server does not enforce a header-list size, so the proxy counts them).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http2, { type ServerHttp2Stream } from "node:http2";
import { after, before, describe, test } from "node:test";
import { Code } from "../src/index.js";
import { createTestCa, type TestCa } from "./support/certificates.js";
import { h2WebCall } from "./support/h2-web-call.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { type RawUpstream, startRawUpstream } from "./support/raw-upstream.js";

const PATH = "/helloworld.Greeter/SayHello";
const message = new Uint8Array();

describe("HTTP/2 limits", () => {
  let ca: TestCa;
  let upstream: RawUpstream;
  let proxy: RunningProxy;
  const stalled: ServerHttp2Stream[] = [];
  let seenThird = 0;
  const sessions: http2.ClientHttp2Session[] = [];

  before(async () => {
    ca = createTestCa();
    upstream = await startRawUpstream((stream, headers) => {
      stream.resume();
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      if (headers["x-third"]) seenThird++;
      if (headers["x-stall"]) stalled.push(stream);
      else stream.end();
    });
    proxy = await startProxy(upstream.url, {
      tls: ca.issue("proxy", "proxy", ["IP:127.0.0.1"]),
      maxCallsPerConnection: 2,
      maxHeaderBytes: 2048,
    });
  });
  after(async () => {
    for (const session of sessions) session.destroy();
    await proxy.close();
    await upstream.close();
    ca.remove();
  });

  function connect(): http2.ClientHttp2Session {
    const session = http2.connect(proxy.url.replace("http:", "https:"), { ca: readFileSync(ca.certFile) });
    sessions.push(session);
    return session;
  }

  test("calls per connection: advertised as SETTINGS_MAX_CONCURRENT_STREAMS, so a client's third call waits for a slot", async () => {
    const session = connect();
    const settings = await new Promise<http2.Settings>((resolve) => session.once("remoteSettings", resolve));
    assert.equal(settings.maxConcurrentStreams, 2);
    const running = [
      h2WebCall(session, PATH, { message, headers: { "x-stall": "1" } }),
      h2WebCall(session, PATH, { message, headers: { "x-stall": "1" } }),
    ];
    while (stalled.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    let thirdDone = false;
    const third = h2WebCall(session, PATH, { message, headers: { "x-third": "1" } }).finally(() => {
      thirdDone = true;
    });
    const elsewhere = await h2WebCall(connect(), PATH, { message });
    assert.equal(elsewhere.grpcStatus, Code.OK, "other connections go on");
    assert.equal(thirdDone, false, "the third call waits in the client");
    assert.equal(seenThird, 0, "and never reached the backend meanwhile");
    for (const stream of stalled.splice(0)) stream.end();
    for (const call of await Promise.all(running)) assert.equal(call.grpcStatus, Code.OK);
    assert.equal((await third).grpcStatus, Code.OK);
    assert.equal(seenThird, 1);
  });

  test("header bytes: a header block past the limit is RESOURCE_EXHAUSTED, and the connection serves on", async () => {
    const session = connect();
    const big = await h2WebCall(session, PATH, { message, headers: { "x-big": "a".repeat(3000) } });
    assert.equal(big.grpcStatus, Code.RESOURCE_EXHAUSTED);
    assert.match(
      big.grpcMessage ?? "",
      /request headers of \d+ bytes are larger than the limit of 2048 bytes/,
    );
    const small = await h2WebCall(session, PATH, { message, headers: { "x-small": "a" } });
    assert.equal(small.grpcStatus, Code.OK);
  });
});
