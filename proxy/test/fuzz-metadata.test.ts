// Property-based tests of header forwarding: whatever an HTTP/1.1 client sends, the upstream headers carry no
// hop-by-hop header, and node:http2 accepts them and a real HTTP/2 server reads them.
import assert from "node:assert/strict";
import http2, {
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from "node:http2";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { responseMetadata, upstreamRequestHeaders } from "../src/protocol/metadata.js";
import { fuzzRuns } from "./support/fuzz.js";
import { type RawUpstream, startRawUpstream } from "./support/raw-upstream.js";

/** Every header that describes one connection (RFC 9110 §7.6.1, RFC 9113 §8.2.2), as a client may send them. */
const CONNECTION_SPECIFIC = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "http2-settings",
  "proxy-authorization",
];
/** Headers the proxy sets itself, whatever the client sent. */
const SET_BY_PROXY = [
  "content-type",
  "te",
  "grpc-timeout",
  "x-forwarded-for",
  "x-forwarded-host",
  "grpc-accept-encoding",
];
const INTERESTING = [
  ...CONNECTION_SPECIFIC,
  "host",
  "content-length",
  "accept",
  "accept-encoding",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "authorization",
  "cookie",
  "set-cookie",
  "user-agent",
  "origin",
  "access-control-request-method",
  "x-user-bin",
  "x-grpc-web",
];

/** RFC 9110 tchar, lower-cased as node's HTTP/1.1 parser hands names over. */
const tokenName = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"),
  minLength: 1,
  maxLength: 12,
});
const headerName = fc.oneof(fc.constantFrom(...INTERESTING), tokenName);
/** What node's HTTP/1.1 parser lets through in a value: HTAB, visible ASCII, obs-text; trimmed. */
const headerValue = fc
  .string({
    unit: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constant("\t") },
    ),
    maxLength: 30,
  })
  .map((value) => value.trim());
/** A Connection header naming other headers, as RFC 9110 allows. */
const connectionValue = fc
  .array(fc.oneof(fc.constantFrom("keep-alive", "close", "upgrade"), headerName), { maxLength: 3 })
  .map((names) => names.join(", "));

/** Request headers as node's HTTP/1.1 server hands them to the proxy: only set-cookie is ever an array. */
const incomingHeaders: fc.Arbitrary<IncomingHttpHeaders> = fc
  .tuple(
    fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }),
    fc.option(connectionValue, { nil: undefined }),
  )
  .map(([pairs, connection]) => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of pairs) {
      if (name === "set-cookie") headers[name] = [...(headers[name] ?? []), value];
      else headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (connection !== undefined) headers.connection = connection;
    return headers;
  });

function forward(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  return upstreamRequestHeaders(incoming, {
    path: "/helloworld.Greeter/SayHello",
    authority: "127.0.0.1:50051",
    contentType: "application/grpc+proto",
    timeout: "1S",
    clientAddress: "127.0.0.1",
  });
}

describe("upstream request headers, for any client headers", () => {
  test("carry no connection-specific header and no name gRPC metadata cannot have", () => {
    fc.assert(
      fc.property(incomingHeaders, (incoming) => {
        const headers = forward(incoming);
        const listed = String(incoming.connection ?? "")
          .split(",")
          .map((name) => name.trim().toLowerCase());
        for (const name of Object.keys(headers)) {
          if (name.startsWith(":")) continue;
          assert.match(name, /^[0-9a-z_.-]+$/);
          if (name === "te") assert.equal(headers.te, "trailers");
          else assert.ok(!CONNECTION_SPECIFIC.includes(name), `${name} is connection-specific`);
          if (!SET_BY_PROXY.includes(name))
            assert.ok(!listed.includes(name), `${name} is listed in Connection`);
        }
        assert.equal(headers[":authority"], "127.0.0.1:50051");
        assert.equal(headers[":path"], "/helloworld.Greeter/SayHello");
        assert.equal(headers["content-type"], "application/grpc+proto");
        assert.equal(headers["grpc-timeout"], "1S");
      }),
      fuzzRuns(1000),
    );
  });

  describe("through a real HTTP/2 connection", () => {
    let upstream: RawUpstream;
    let session: ClientHttp2Session;
    before(async () => {
      upstream = await startRawUpstream((stream) => stream.respond({ ":status": 200 }, { endStream: true }));
      session = http2.connect(upstream.url);
    });
    after(async () => {
      session?.close();
      await upstream?.close();
    });

    test("node:http2 sends them and the server answers, never a thrown error or a reset", async () => {
      await fc.assert(
        fc.asyncProperty(incomingHeaders, async (incoming) => {
          const stream = session.request(forward(incoming), { endStream: true });
          const status = await new Promise<unknown>((resolve, reject) => {
            stream.once("response", (headers) => resolve(headers[":status"]));
            stream.once("error", reject);
          });
          assert.equal(status, 200);
          stream.resume();
        }),
        fuzzRuns(200),
      );
    });
  });
});

/** Response headers as node's http2 client hands them over: lower-case names, arrays for repeats. */
const upstreamHeaders: fc.Arbitrary<IncomingHttpHeaders> = fc
  .array(
    fc.tuple(fc.oneof(headerName, fc.constantFrom(":status", "content-type", "grpc-status")), headerValue),
    {
      maxLength: 10,
    },
  )
  .map((pairs) => {
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of pairs) {
      const earlier = headers[name];
      headers[name] =
        earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
    }
    return headers;
  });

describe("response metadata, for any upstream headers", () => {
  test("drops pseudo-headers, framing and connection-specific headers, and keeps every value as one string", () => {
    fc.assert(
      fc.property(upstreamHeaders, (headers) => {
        for (const [name, value] of responseMetadata(headers)) {
          assert.ok(!name.startsWith(":"));
          assert.ok(!["content-type", "content-length", ...CONNECTION_SPECIFIC].includes(name), name);
          assert.equal(typeof value, "string");
        }
      }),
      fuzzRuns(),
    );
  });
});
