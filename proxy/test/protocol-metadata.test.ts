import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  responseMetadata,
  type UpstreamRequestContext,
  upstreamRequestHeaders,
} from "../src/protocol/metadata.js";

const ctx: UpstreamRequestContext = {
  path: "/helloworld.Greeter/SayHello",
  authority: "127.0.0.1:50051",
  contentType: "application/grpc+proto",
  timeout: "4999m",
  clientAddress: "127.0.0.1",
};

/** What node's HTTP/1.1 server hands the proxy for a grpc-web-text call from a browser, with every kind of header
 *  that must not go upstream as it came. */
const browser: IncomingHttpHeaders = {
  host: "web.example:8080",
  connection: "keep-alive, X-Hop",
  "keep-alive": "timeout=5",
  "proxy-connection": "keep-alive",
  "transfer-encoding": "chunked",
  upgrade: "h2c",
  te: "trailers, deflate",
  trailer: "x-later",
  "proxy-authorization": "Basic cHJveHk=",
  "content-length": "12",
  "content-type": "application/grpc-web-text",
  accept: "application/grpc-web-text",
  "accept-encoding": "gzip, deflate, br",
  "grpc-timeout": "5S",
  "access-control-request-method": "POST",
  "access-control-request-headers": "x-grpc-web",
  "x-hop": "only to the proxy",
  "x!bang": "HTTP-legal, not gRPC metadata",
  origin: "http://web.example:8080",
  cookie: "session=abc; theme=dark",
  authorization: "Bearer token",
  "user-agent": "Mozilla/5.0",
  "x-grpc-web": "1",
  "x-user-agent": "grpc-web-javascript/0.1",
  "trace-id-bin": "AAEC",
  "grpc-encoding": "identity",
};

describe("upstreamRequestHeaders", () => {
  const headers = upstreamRequestHeaders(browser, ctx);

  test("sets the HTTP/2 pseudo-headers of a gRPC call", () => {
    assert.equal(headers[":method"], "POST");
    assert.equal(headers[":scheme"], undefined, "the HTTP/2 session sets :scheme for its own transport");
    assert.equal(headers[":authority"], "127.0.0.1:50051");
    assert.equal(headers[":path"], "/helloworld.Greeter/SayHello");
  });

  test("replaces content-type, te and grpc-timeout with the call's own", () => {
    assert.equal(headers["content-type"], "application/grpc+proto");
    assert.equal(headers.te, "trailers");
    assert.equal(headers["grpc-timeout"], "4999m");
  });

  for (const name of [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "trailer",
    "proxy-authorization",
    "host",
    "content-length",
    "accept",
    "accept-encoding",
    "access-control-request-method",
    "access-control-request-headers",
  ]) {
    test(`drops ${name}`, () => assert.equal(headers[name], undefined));
  }

  test("drops a header the Connection header names as hop-by-hop", () => {
    assert.equal(headers["x-hop"], undefined);
  });

  test("drops names that are not valid gRPC metadata, pseudo-headers of an HTTP/2 browser connection included", () => {
    assert.equal(headers["x!bang"], undefined);
    const fromHttp2 = upstreamRequestHeaders({ ":method": "POST", ":path": "/evil", "X-Upper": "1" }, ctx);
    assert.equal(fromHttp2[":path"], ctx.path);
    assert.equal(fromHttp2["X-Upper"], undefined);
  });

  test("keeps application metadata verbatim: origin, cookie, authorization, user-agent, -bin, grpc-encoding", () => {
    for (const name of [
      "origin",
      "cookie",
      "authorization",
      "user-agent",
      "x-grpc-web",
      "x-user-agent",
      "trace-id-bin",
      "grpc-encoding",
    ]) {
      assert.equal(headers[name], browser[name], name);
    }
  });

  test("sends no grpc-timeout when the call has no deadline, whatever the browser sent", () => {
    assert.equal(upstreamRequestHeaders(browser, { ...ctx, timeout: undefined })["grpc-timeout"], undefined);
  });

  test("a status on a request never goes upstream: it is what servers answer", () => {
    const sent = upstreamRequestHeaders(
      { "grpc-status": "0", "grpc-message": "fine", "grpc-status-details-bin": "AAAA" },
      ctx,
    );
    for (const name of ["grpc-status", "grpc-message", "grpc-status-details-bin"]) {
      assert.equal(sent[name], undefined, name);
    }
  });

  const forwarding = {
    host: "internal:8080",
    forwarded: "for=203.0.113.7;proto=https",
    via: "1.1 edge",
    "x-real-ip": "203.0.113.7",
    "x-forwarded-for": "203.0.113.7, 10.0.0.1",
    "x-forwarded-host": "app.example",
    "x-forwarded-proto": "https",
    "x-forwarded-port": "443",
    "x-forwarded-prefix": "/api",
  };
  const trusted = { ...ctx, clientProtocol: "http", trustForwarded: true } as const;

  test("untrusted (the default): a client's forwarding headers are replaced with what the proxy saw", () => {
    const sent = upstreamRequestHeaders(forwarding, { ...ctx, clientProtocol: "http" });
    assert.equal(sent["x-forwarded-for"], "127.0.0.1");
    assert.equal(sent["x-forwarded-host"], "internal:8080");
    assert.equal(sent["x-forwarded-proto"], "http");
    for (const name of ["forwarded", "via", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix"]) {
      assert.equal(sent[name], undefined, name);
    }
    assert.equal(headers["x-forwarded-host"], "web.example:8080");
    assert.equal(headers["x-forwarded-proto"], undefined, "no scheme when the proxy does not know it");
  });

  test("trusted: x-forwarded-for is appended to, and the other forwarding headers are kept as they came", () => {
    const sent = upstreamRequestHeaders(forwarding, trusted);
    assert.equal(sent["x-forwarded-for"], "203.0.113.7, 10.0.0.1, 127.0.0.1");
    assert.equal(sent["x-forwarded-host"], "app.example");
    assert.equal(sent["x-forwarded-proto"], "https");
    for (const name of ["forwarded", "via", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix"] as const) {
      assert.equal(sent[name], forwarding[name], name);
    }
    const unknownPeer = upstreamRequestHeaders(
      { "x-forwarded-for": "203.0.113.7" },
      { ...trusted, clientAddress: undefined },
    );
    assert.equal(unknownPeer["x-forwarded-for"], "203.0.113.7");
    assert.equal(
      upstreamRequestHeaders({}, { ...ctx, clientAddress: undefined })["x-forwarded-for"],
      undefined,
    );
  });

  test("grpc-accept-encoding is identity unless the client sent its own", () => {
    assert.equal(headers["grpc-accept-encoding"], "identity");
    const own = upstreamRequestHeaders({ "grpc-accept-encoding": "gzip" }, ctx);
    assert.equal(own["grpc-accept-encoding"], "gzip");
  });

  test("builds a new object and leaves the incoming one alone", () => {
    const incoming = { host: "a", "x-custom": "1" };
    const copy = { ...incoming };
    const built = upstreamRequestHeaders(incoming, ctx);
    assert.notEqual(built, incoming);
    assert.deepEqual(incoming, copy);
  });
});

describe("responseMetadata", () => {
  test("drops pseudo-headers, content-type, content-length and hop-by-hop headers", () => {
    const pairs = responseMetadata({
      ":status": 200 as unknown as string,
      "content-type": "application/grpc",
      "content-length": "7",
      connection: "close",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      te: "trailers",
      trailer: "grpc-status",
      upgrade: "h2c",
      "x-kept": "yes",
    });
    assert.deepEqual(pairs, [["x-kept", "yes"]]);
  });

  test("keeps grpc-status, grpc-message, grpc-status-details-bin and -bin values verbatim", () => {
    const trailers = {
      "grpc-status": "3",
      "grpc-message": "bad%20name",
      "grpc-status-details-bin": "CAMSCGJhZCBuYW1l",
      "custom-bin": "AAEC",
    };
    assert.deepEqual(responseMetadata(trailers), Object.entries(trailers));
  });

  test("joins a merged duplicate with commas, but gives each set-cookie its own pair when cookies pass", () => {
    const pairs = responseMetadata(
      {
        "x-dup": ["a", "b"] as unknown as string,
        "set-cookie": ["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"],
        "x-gone": undefined,
      },
      true,
    );
    assert.deepEqual(pairs, [
      ["x-dup", "a, b"],
      ["set-cookie", "a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT"],
      ["set-cookie", "b=2"],
    ]);
  });
});

test("responseMetadata: a backend's CORS headers never pass, nor its cookies unless they are let through", () => {
  const fromBackend = {
    "access-control-allow-origin": "*",
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": "set-cookie",
    "set-cookie": ["session=1"],
    "x-kept": "yes",
  };
  assert.deepEqual(responseMetadata(fromBackend), [["x-kept", "yes"]]);
  assert.deepEqual(responseMetadata(fromBackend, true), [
    ["set-cookie", "session=1"],
    ["x-kept", "yes"],
  ]);
});

describe("against node's real http2, over loopback", () => {
  let server: http2.Http2Server;
  let session: http2.ClientHttp2Session;
  const seen: IncomingHttpHeaders[] = [];

  before(async () => {
    server = http2.createServer();
    server.on("stream", (stream, headers) => {
      seen.push(headers);
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "x-dup": ["a", "b"] },
        { waitForTrailers: true },
      );
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "trace-bin": "AQI" }));
      stream.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    session.close();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Sends one call with `incoming` as the browser's headers; resolves with what came back. */
  function call(
    incoming: IncomingHttpHeaders,
  ): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const stream = session.request(upstreamRequestHeaders(incoming, ctx));
      let headers: IncomingHttpHeaders = {};
      stream.on("response", (received) => {
        headers = received;
      });
      stream.on("trailers", (trailers) => resolve({ headers, trailers }));
      stream.on("error", reject);
      stream.resume();
      stream.end();
    });
  }

  test("the headers built from a browser's worst are accepted by node's http2 client and reach the server", async () => {
    await call(browser);
    const received = seen.at(-1) ?? {};
    assert.equal(received.te, "trailers");
    assert.equal(received[":path"], ctx.path);
    assert.equal(received["content-type"], "application/grpc+proto");
    assert.equal(received.cookie, browser.cookie);
    assert.equal(received["x-hop"], undefined);
  });

  test("every te a browser may send becomes te: trailers without node throwing", async () => {
    for (const te of ["trailers", "Trailers", "trailers, deflate", "gzip", "deflate;q=0.5"]) {
      await call({ te });
      assert.equal(seen.at(-1)?.te, "trailers", te);
    }
  });

  test("response headers and trailers map to the pairs a browser gets", async () => {
    const { headers, trailers } = await call({});
    assert.deepEqual(
      responseMetadata(headers).filter(([name]) => name !== "date"),
      [["x-dup", "a, b"]],
    );
    assert.deepEqual(responseMetadata(trailers), [
      ["grpc-status", "0"],
      ["trace-bin", "AQI"],
    ]);
  });
});
