// Every kind of bad request gets a clear answer, and the next good call still works.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { type Backend, startBackend } from "./support/backends.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const SAY_HELLO = "/helloworld.Greeter/SayHello";
const MAX_MESSAGE_BYTES = 64 * 1024;

function frame(payload: Uint8Array, flags = 0, length = payload.length): Buffer {
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(length, 1);
  return Buffer.concat([header, payload]);
}

const helloFrame = frame(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "Ada" })));

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  grpcStatus: string | null;
}

describe("bad input", () => {
  let backend: Backend;
  let proxy: RunningProxy;
  before(async () => {
    backend = await startBackend("connect-node");
    proxy = await startProxy(backend.url, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      allowedOrigins: ["http://app.test"],
    });
  });
  after(async () => {
    await proxy?.close();
    await backend?.close();
  });

  async function post(
    body: Buffer | string,
    headers: Record<string, string> = {},
    path = SAY_HELLO,
    method = "POST",
  ) {
    const response = await fetch(proxy.url + path, {
      method,
      headers: { "content-type": "application/grpc-web+proto", ...headers },
      ...(method === "POST" && { body: typeof body === "string" ? body : new Uint8Array(body) }),
    });
    const answer: Answer = {
      status: response.status,
      headers: response.headers,
      body: Buffer.from(await response.arrayBuffer()),
      grpcStatus: response.headers.get("grpc-status"),
    };
    return answer;
  }

  /** After each bad request, a good one on a new connection still succeeds. */
  async function assertStillServing(): Promise<void> {
    const good = await post(helloFrame);
    assert.equal(good.status, 200);
    assert.equal(good.grpcStatus, null, "status comes in the trailer frame");
    assert.ok(good.body.includes(Buffer.from("Hello, Ada!")));
  }

  const cases: Array<[string, () => Promise<Answer>, (a: Answer) => void]> = [
    [
      "an unknown content type is 415",
      () => post(helloFrame, { "content-type": "application/json" }),
      (a) => assert.equal(a.status, 415),
    ],
    [
      "a missing content type is 415",
      () => post(helloFrame, { "content-type": "" }),
      (a) => assert.equal(a.status, 415),
    ],
    [
      "native gRPC content type over HTTP/1.1 is 415",
      () => post(helloFrame, { "content-type": "application/grpc" }),
      (a) => assert.equal(a.status, 415),
    ],
    [
      "GET on a gRPC path is 405",
      () => post("", {}, SAY_HELLO, "GET"),
      (a) => {
        assert.equal(a.status, 405);
        assert.equal(a.headers.get("allow"), "POST, OPTIONS");
      },
    ],
    [
      "a frame with the trailer flag from a client is INTERNAL",
      () => post(frame(Buffer.from("x"), 0x80)),
      (a) => assert.equal(a.grpcStatus, "13"),
    ],
    [
      "a compressed frame without grpc-encoding is INTERNAL",
      () => post(frame(Buffer.from("x"), 0x01)),
      (a) => assert.equal(a.grpcStatus, "13"),
    ],
    [
      "a length beyond the body is INTERNAL",
      () => post(frame(Buffer.from("abc"), 0, 10)),
      (a) => assert.equal(a.grpcStatus, "13"),
    ],
    [
      "a body that ends inside the frame header is INTERNAL",
      () => post(Buffer.from([0, 0, 0])),
      (a) => assert.equal(a.grpcStatus, "13"),
    ],
    [
      "a length of 2^32-1 is RESOURCE_EXHAUSTED at once",
      () => post(frame(Buffer.from("abc"), 0, 2 ** 32 - 1)),
      (a) => assert.equal(a.grpcStatus, "8"),
    ],
    [
      "a message over the size limit is RESOURCE_EXHAUSTED",
      () => post(frame(Buffer.alloc(MAX_MESSAGE_BYTES + 1))),
      (a) => assert.equal(a.grpcStatus, "8"),
    ],
    [
      "a second request message (client streaming) is UNIMPLEMENTED, saying why",
      () => post(Buffer.concat([helloFrame, helloFrame]), {}, "/helloworld.Greeter/SayHelloBidiStream"),
      (a) => {
        assert.equal(a.grpcStatus, "12");
        assert.match(decodeURIComponent(a.headers.get("grpc-message") ?? ""), /stream/i);
      },
    ],
    [
      "a malformed grpc-timeout is rejected",
      () => post(helloFrame, { "grpc-timeout": "10s" }),
      (a) => assert.ok(a.grpcStatus !== null && a.grpcStatus !== "0", `grpc-status ${a.grpcStatus}`),
    ],
    [
      "a 9-digit grpc-timeout is rejected",
      () => post(helloFrame, { "grpc-timeout": "123456789S" }),
      (a) => assert.ok(a.grpcStatus !== null && a.grpcStatus !== "0", `grpc-status ${a.grpcStatus}`),
    ],
    [
      "invalid base64 in text mode is rejected",
      () => post("AAAA$$$$", { "content-type": "application/grpc-web-text" }),
      (a) => assert.ok(a.grpcStatus !== null && a.grpcStatus !== "0", `grpc-status ${a.grpcStatus}`),
    ],
    [
      "a path that is not a gRPC method is UNIMPLEMENTED",
      () => post(helloFrame, {}, "/helloworld.Greeter/Say.Hello"),
      (a) => assert.equal(a.grpcStatus, "12"),
    ],
    [
      "a call from an origin not on the allowlist is PERMISSION_DENIED with no CORS grant",
      () => post(helloFrame, { origin: "http://evil.test" }),
      (a) => {
        assert.equal(a.grpcStatus, "7");
        assert.equal(a.headers.get("access-control-allow-origin"), null);
      },
    ],
  ];

  for (const [name, send, check] of cases) {
    test(name, async () => {
      check(await send());
      await assertStillServing();
    });
  }

  test("text mode: separately padded base64 segments make one message", async () => {
    const text = helloFrame.subarray(0, 7).toString("base64") + helloFrame.subarray(7).toString("base64");
    assert.ok(text.indexOf("=") < text.length - 2, "padding sits in the middle");
    const answer = await post(text, {
      "content-type": "application/grpc-web-text",
      accept: "application/grpc-web-text",
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("content-type"), "application/grpc-web-text");
    const body = Buffer.concat(
      answer.body
        .toString()
        .match(/[^=]+=*/g)
        ?.map((s) => Buffer.from(s, "base64")) ?? [],
    );
    assert.ok(body.includes(Buffer.from("Hello, Ada!")));
  });

  test("a query string is stripped before forwarding", async () => {
    const answer = await post(helloFrame, {}, `${SAY_HELLO}?cache=1`);
    assert.ok(answer.body.includes(Buffer.from("Hello, Ada!")));
  });

  test("preflight from an allowed origin allows the gRPC-Web and requested headers", async () => {
    const response = await fetch(proxy.url + SAY_HELLO, {
      method: "OPTIONS",
      headers: {
        origin: "http://app.test",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-grpc-web,x-user-bin",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), "http://app.test");
    assert.match(response.headers.get("access-control-allow-headers") ?? "", /x-user-bin/);
  });

  test("preflight from another origin is refused", async () => {
    const response = await fetch(proxy.url + SAY_HELLO, {
      method: "OPTIONS",
      headers: { origin: "http://evil.test", "access-control-request-method": "POST" },
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
  });

  test("an allowed origin's error response carries CORS and exposes the status headers", async () => {
    const answer = await post(frame(Buffer.from("x"), 0x80), { origin: "http://app.test" });
    assert.equal(answer.headers.get("access-control-allow-origin"), "http://app.test");
    assert.match(answer.headers.get("access-control-expose-headers") ?? "", /grpc-status, grpc-message/);
  });
});
