// What crosses the proxy in either direction, over real sockets: the proxy grants CORS itself and a
// backend cannot widen it; a browser cannot pose as another address or send a status upstream.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { frame } from "./support/chunks.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";
import { type RawUpstream, startRawUpstream } from "./support/raw-upstream.js";

const PATH = "/helloworld.Greeter/SayHello";
const ORIGIN = "https://app.example";
/** What a careless backend (or one behind its own CORS middleware) adds to every answer. */
const BACKEND_CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-credentials": "true",
  "access-control-expose-headers": "set-cookie",
  "set-cookie": "session=stolen; Path=/",
};

describe("a backend's CORS headers and cookies never reach the browser", () => {
  let upstream: RawUpstream;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await startRawUpstream((stream, headers) => {
      stream.resume();
      stream.on("end", () => {
        if (headers["x-answer"] === "trailers-only") {
          stream.respond(
            { ":status": 200, "content-type": "application/grpc", "grpc-status": "0", ...BACKEND_CORS },
            { endStream: true },
          );
          return;
        }
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", ...BACKEND_CORS },
          { waitForTrailers: true },
        );
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", ...BACKEND_CORS }));
        stream.end(frame(0, "hi"));
      });
    });
    proxy = await startProxy(upstream.url, { allowedOrigins: [ORIGIN] });
  });
  after(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  for (const answer of ["headers, message and trailers", "trailers-only"]) {
    test(`${answer}: only the proxy's own grant, no credentials, no cookie, none exposed`, async () => {
      const result = await grpcWebCall(proxy.url, PATH, {
        message: new Uint8Array(),
        headers: { origin: ORIGIN, ...(answer === "trailers-only" && { "x-answer": "trailers-only" }) },
      });
      assert.equal(result.grpcStatus, 0);
      assert.equal(result.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(result.headers["access-control-allow-credentials"], undefined);
      assert.equal(result.headers["set-cookie"], undefined);
      const exposed = String(result.headers["access-control-expose-headers"]).split(/, */);
      assert.ok(exposed.includes("grpc-status"), "the proxy's own list is there");
      for (const name of exposed) assert.ok(!/^(set-cookie|access-control-)/.test(name), name);
      for (const name of Object.keys(result.trailers ?? {})) {
        assert.ok(!/^(set-cookie|access-control-)/.test(name), `trailer ${name}`);
      }
    });
  }
});

describe("what a browser's headers may tell the backend", () => {
  let upstream: EchoUpstream;
  let proxy: RunningProxy;
  before(async () => {
    upstream = await startEchoUpstream();
    proxy = await startProxy(upstream.url);
  });
  after(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  test("forwarding headers are replaced with what the proxy saw, and a request's status is dropped", async () => {
    const result = await grpcWebCall(proxy.url, PATH, {
      message: new Uint8Array(),
      headers: {
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-host": "bank.example",
        "x-forwarded-proto": "https",
        "x-real-ip": "203.0.113.7",
        forwarded: "for=203.0.113.7",
        via: "1.1 somewhere",
        "grpc-status": "0",
        "grpc-message": "all good",
      },
    });
    assert.equal(result.grpcStatus, 0);
    const seen = upstream.seen.at(-1);
    assert.ok(seen);
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen["x-forwarded-host"], new URL(proxy.url).host);
    assert.equal(seen["x-forwarded-proto"], "http");
    for (const name of ["x-real-ip", "forwarded", "via", "grpc-status", "grpc-message"]) {
      assert.equal(seen[name], undefined, name);
    }
  });
});
