// The grpc-websockets protocol (docs/websocket.md) as pure code: the client's messages in, the server's messages
// out, byte at a time and at every split, and properties over any input.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { upstreamRequestHeaders } from "../src/protocol/metadata.js";
import { Code, GrpcError } from "../src/protocol/status.js";
import {
  type ClientMessage,
  ClientMessageError,
  type ClientMessageLimits,
  ClientMessageReader,
} from "../src/protocol/websocket/client-messages.js";
import { CloseCode } from "../src/protocol/websocket/close-code.js";
import { callHeaders, parseHeaderLines } from "../src/protocol/websocket/header-lines.js";
import { ServerMessages } from "../src/protocol/websocket/server-messages.js";
import { GRPC_WEBSOCKETS, selectSubprotocol } from "../src/protocol/websocket/subprotocol.js";
import { assertGrpcError } from "./support/assert-grpc-error.js";
import { everySplit, frame, oneByteAtATime } from "./support/chunks.js";
import { cutAt, cuts, encodeFrames, frameEnds, fuzzRuns, messageFrame } from "./support/fuzz.js";
import { readServerMessages } from "./support/websocket-call.js";

const LIMITS: ClientMessageLimits = { maxMessageBytes: 1024, maxMetadataBytes: 512 };

/** The first message as improbable's client writes it: `${name}: ${values.join(", ")}\r\n` per name. */
function headerLines(metadata: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(metadata)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join(""),
    "latin1",
  );
}

const IMPROBABLE_METADATA = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };
const FINISHED = Buffer.from([1]);
const data = (bytes: Buffer) => Buffer.concat([Buffer.from([0]), bytes]);

/** A reader that has read improbable's usual first message. */
function sendingReader(metadata: Record<string, string> = IMPROBABLE_METADATA): ClientMessageReader {
  const reader = new ClientMessageReader(LIMITS);
  assert.equal(kindOf(reader.read(headerLines(metadata), true)), "metadata");
  return reader;
}

function kindOf(result: ClientMessage | ClientMessageError): string {
  if (result instanceof ClientMessageError) throw new Error(`unexpected refusal: ${result.message}`);
  return result.kind;
}

function assertRefused(
  result: ClientMessage | ClientMessageError | undefined,
  code: number,
  closeCode: CloseCode,
  message?: RegExp,
): asserts result is ClientMessageError {
  assertGrpcError(result, code, message);
  assert.ok(result instanceof ClientMessageError);
  assert.equal(result.closeCode, closeCode);
}

/** Sends `chunks` as data messages; returns the first refusal, and the bytes the reader handed out. */
function sendData(reader: ClientMessageReader, chunks: readonly Buffer[]) {
  const forwarded: Buffer[] = [];
  for (const chunk of chunks) {
    const result = reader.read(data(chunk), true);
    if (result instanceof ClientMessageError) return { error: result, forwarded: Buffer.concat(forwarded) };
    assert.equal(result.kind, "data");
    if (result.kind === "data") forwarded.push(result.bytes);
  }
  return { error: undefined, forwarded: Buffer.concat(forwarded) };
}

describe("selectSubprotocol", () => {
  test("answers with the client's own spelling of grpc-websockets, matched without regard to case", () => {
    assert.equal(selectSubprotocol(["grpc-websockets"]), GRPC_WEBSOCKETS);
    assert.equal(selectSubprotocol(new Set(["chat", "GRPC-WebSockets"])), "GRPC-WebSockets");
  });

  test("none when grpc-websockets is not offered", () => {
    assert.equal(selectSubprotocol([]), undefined);
    assert.equal(selectSubprotocol(["grpc-websocket", "grpc-web"]), undefined);
  });
});

describe("parseHeaderLines", () => {
  test("reads the first message improbable's client sends, names lower-cased and values trimmed", () => {
    const block = headerLines({
      "content-type": "application/grpc-web+proto",
      "x-grpc-web": "1",
      Authorization: "Bearer abc.def",
      "X-Trace-Bin": "AAEC",
      "grpc-timeout": "  5S\t",
    });
    assert.deepEqual(
      { ...(parseHeaderLines(block) as object) },
      {
        "content-type": "application/grpc-web+proto",
        "x-grpc-web": "1",
        authorization: "Bearer abc.def",
        "x-trace-bin": "AAEC",
        "grpc-timeout": "5S",
      },
    );
  });

  test("an empty message is no metadata, which is what improbable's client sends for none", () => {
    assert.deepEqual({ ...(parseHeaderLines(Buffer.alloc(0)) as object) }, {});
  });

  test("LF alone ends a line too, blank lines are skipped, a repeated name's values are joined with ', '", () => {
    const parsed = parseHeaderLines(Buffer.from("a: 1\n\r\nB: 2\r\na:3\n\nc:\n"));
    assert.deepEqual({ ...(parsed as object) }, { a: "1, 3", b: "2", c: "" });
  });

  test("names that are Object.prototype's are names like any other", () => {
    const parsed = parseHeaderLines(Buffer.from("constructor: x\r\n__proto__: y\r\ntoString: z\r\n"));
    assert.ok(!(parsed instanceof GrpcError));
    assert.deepEqual(Object.entries(parsed), [
      ["constructor", "x"],
      ["__proto__", "y"],
      ["tostring", "z"],
    ]);
  });

  const notHeaderLines: Array<[string, Buffer, RegExp]> = [
    ["a gRPC frame (a client that skipped the metadata)", frame(0, "hi"), /byte 0x00 at offset 0/],
    ["a byte above ASCII", Buffer.from("a: caf\xe9\r\n", "latin1"), /byte 0xe9 at offset 6/],
    ["a NUL in a value", Buffer.from("a: b\0c\r\n", "latin1"), /byte 0x00 at offset 4/],
    ["a line without a colon", Buffer.from("a: 1\r\njust text\r\n"), /line 2 is not "name: value"/],
    ["an empty name", Buffer.from(": value\r\n"), /line 1 is not "name: value"/],
    ["a space before the colon", Buffer.from("a : 1\r\n"), /line 1 is not "name: value"/],
    ["a folded line", Buffer.from("a: 1\r\n  more\r\n"), /line 2 starts with whitespace/],
    ["a CR inside a line", Buffer.from("a: 1\rb: 2\r\n"), /line 1 has a CR/],
    ["JSON", Buffer.from('{"authorization":"Bearer x"}'), /line 1 is not "name: value"/],
  ];
  for (const [what, block, message] of notHeaderLines) {
    test(`refuses ${what} with INTERNAL, saying what is wrong`, () => {
      assertGrpcError(parseHeaderLines(block), Code.INTERNAL, message);
    });
  }
});

describe("callHeaders", () => {
  const upgrade = {
    host: "proxy.example",
    origin: "https://app.example",
    cookie: "session=s",
    "user-agent": "Chromium",
    "sec-fetch-site": "same-site",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    "sec-websocket-protocol": "grpc-websockets",
    upgrade: "websocket",
    connection: "Upgrade",
  };

  test("keeps what the browser set on the upgrade, without the handshake's own fields, and adds the lines", () => {
    const headers = callHeaders(upgrade, { authorization: "Bearer t", "grpc-timeout": "1S" });
    assert.deepEqual(
      { ...headers },
      {
        host: "proxy.example",
        origin: "https://app.example",
        cookie: "session=s",
        "user-agent": "Chromium",
        "sec-fetch-site": "same-site",
        upgrade: "websocket",
        connection: "Upgrade",
        authorization: "Bearer t",
        "grpc-timeout": "1S",
      },
    );
  });

  test("a line replaces the upgrade's value of a name a page may set", () => {
    assert.equal(callHeaders(upgrade, { "user-agent": "my-app/1.0" })["user-agent"], "my-app/1.0");
  });

  test("a page cannot claim what the browser or a proxy in front sets: such lines are dropped", () => {
    const forged = {
      origin: "https://bank.example",
      cookie: "session=stolen",
      host: "internal.example",
      referer: "https://bank.example/",
      "sec-fetch-site": "same-origin",
      "sec-websocket-protocol": "other",
      "proxy-authorization": "Basic x",
      "x-forwarded-for": "10.0.0.1",
      forwarded: "for=10.0.0.1",
      "x-real-ip": "10.0.0.1",
    };
    const headers = callHeaders(upgrade, forged);
    assert.equal(headers.origin, "https://app.example");
    assert.equal(headers.cookie, "session=s");
    assert.equal(headers.host, "proxy.example");
    assert.equal(headers["sec-fetch-site"], "same-site");
    for (const name of [
      "referer",
      "sec-websocket-protocol",
      "proxy-authorization",
      "x-forwarded-for",
      "forwarded",
    ]) {
      assert.equal(headers[name], undefined, name);
    }
    assert.equal(headers["x-real-ip"], undefined);
  });
  test("through the HTTP rules, the call's upstream headers carry the metadata and none of the handshake", () => {
    const headers = upstreamRequestHeaders(
      callHeaders(upgrade, {
        authorization: "Bearer t",
        "x-custom": "c",
        "content-type": "application/grpc-web+proto",
      }),
      {
        path: "/grpc.testing.TestService/FullDuplexCall",
        authority: "backend:50051",
        contentType: "application/grpc+proto",
        timeout: undefined,
        clientAddress: "127.0.0.1",
        clientProtocol: "http",
      },
    );
    assert.equal(headers.authorization, "Bearer t");
    assert.equal(headers["x-custom"], "c");
    assert.equal(headers.origin, "https://app.example");
    assert.equal(headers.cookie, "session=s");
    assert.equal(headers["content-type"], "application/grpc+proto");
    assert.equal(headers["x-forwarded-host"], "proxy.example");
    for (const name of ["upgrade", "connection", "host", "sec-websocket-key", "sec-websocket-protocol"]) {
      assert.equal(headers[name], undefined, name);
    }
  });
});

describe("ClientMessageReader: the first message", () => {
  test("is the metadata, with the codec its content-type names", () => {
    const result = new ClientMessageReader(LIMITS).read(headerLines(IMPROBABLE_METADATA), true);
    assert.ok(!(result instanceof GrpcError) && result.kind === "metadata");
    assert.deepEqual({ ...result.metadata }, IMPROBABLE_METADATA);
    assert.deepEqual(result.contentType, { text: false, suffix: "+proto" });
  });

  test("without a content-type is binary gRPC-Web with no codec suffix", () => {
    const result = new ClientMessageReader(LIMITS).read(Buffer.alloc(0), true);
    assert.ok(!(result instanceof GrpcError) && result.kind === "metadata");
    assert.deepEqual(result.contentType, { text: false, suffix: "" });
  });

  test("refuses grpc-web-text, and a content-type that is not gRPC-Web", () => {
    const text = new ClientMessageReader(LIMITS).read(
      headerLines({ "content-type": "application/grpc-web-text" }),
      true,
    );
    assertRefused(
      text,
      Code.INTERNAL,
      CloseCode.PROTOCOL_ERROR,
      /grpc-web-text is not carried over WebSocket/,
    );
    const json = new ClientMessageReader(LIMITS).read(
      headerLines({ "content-type": "application/json" }),
      true,
    );
    assertRefused(json, Code.INTERNAL, CloseCode.PROTOCOL_ERROR, /"application\/json" is not gRPC-Web/);
  });

  test("refuses metadata larger than the limit with RESOURCE_EXHAUSTED and close 1009", () => {
    const big = headerLines({ "x-big": "v".repeat(LIMITS.maxMetadataBytes) });
    assertRefused(
      new ClientMessageReader(LIMITS).read(big, true),
      Code.RESOURCE_EXHAUSTED,
      CloseCode.MESSAGE_TOO_BIG,
      new RegExp(
        `metadata of ${big.length} bytes is larger than the limit of ${LIMITS.maxMetadataBytes} bytes`,
      ),
    );
  });

  test("refuses a first message that is not header lines, with close 1002", () => {
    assertRefused(
      new ClientMessageReader(LIMITS).read(data(frame(0, "hi")), true),
      Code.INTERNAL,
      CloseCode.PROTOCOL_ERROR,
      /must be the request metadata/,
    );
  });

  test("refuses a text message, first or later, with close 1003", () => {
    assertRefused(
      new ClientMessageReader(LIMITS).read(headerLines(IMPROBABLE_METADATA), false),
      Code.INTERNAL,
      CloseCode.UNSUPPORTED_DATA,
      /a text WebSocket message/,
    );
    assertRefused(
      sendingReader().read(data(frame(0, "hi")), false),
      Code.INTERNAL,
      CloseCode.UNSUPPORTED_DATA,
    );
  });
});

describe("ClientMessageReader: the messages after it", () => {
  const message = frame(0, "hello over a WebSocket");

  test("a data message hands out its bytes after the control byte without copying them", () => {
    const reader = sendingReader();
    const sent = data(message);
    const result = reader.read(sent, true);
    assert.ok(!(result instanceof GrpcError) && result.kind === "data");
    assert.deepEqual(result.bytes, message);
    assert.equal(result.bytes.buffer, sent.buffer);
    assert.equal(result.bytes.byteOffset, sent.byteOffset + 1);
    assert.ok(reader.atFrameBoundary);
  });

  test("one byte per message gives the frames back whole, on a boundary only where a frame ends", () => {
    const stream = Buffer.concat([message, frame(0, ""), frame(0, "x")]);
    const ends = [message.length, message.length + 5, stream.length];
    const reader = sendingReader();
    for (const [at, byte] of oneByteAtATime(stream).entries()) {
      assert.equal(kindOf(reader.read(data(byte), true)), "data");
      assert.equal(reader.atFrameBoundary, ends.includes(at + 1), `after byte ${at + 1}`);
    }
    assert.equal(kindOf(reader.read(FINISHED, true)), "finished");
  });

  test("two frames cut at every point pass through whole", () => {
    const stream = Buffer.concat([message, frame(0, "second")]);
    for (const [at, chunks] of everySplit(stream)) {
      const reader = sendingReader();
      const { error, forwarded } = sendData(reader, chunks);
      assert.equal(error, undefined, `split at ${at}`);
      assert.deepEqual(forwarded, stream, `split at ${at}`);
      assert.equal(kindOf(reader.read(FINISHED, true)), "finished", `split at ${at}`);
    }
  });

  test("a data message with no bytes after its control byte is allowed and carries nothing", () => {
    const result = sendingReader().read(Buffer.from([0]), true);
    assert.ok(!(result instanceof GrpcError) && result.kind === "data");
    assert.equal(result.bytes.length, 0);
  });

  test("finished sending with no messages at all is a half-close", () => {
    assert.equal(kindOf(sendingReader().read(FINISHED, true)), "finished");
  });

  test("finished sending in the middle of a frame is refused, at every cut inside it", () => {
    for (let cut = 1; cut < message.length; cut++) {
      const reader = sendingReader();
      assert.equal(sendData(reader, [message.subarray(0, cut)]).error, undefined);
      assert.equal(reader.atFrameBoundary, false);
      const missing = cut < 5 ? `${5 - cut} of its 5 header bytes` : `${message.length - cut} of its`;
      assertRefused(
        reader.read(FINISHED, true),
        Code.INTERNAL,
        CloseCode.PROTOCOL_ERROR,
        new RegExp(`in the middle of a frame \\(${missing}`),
      );
    }
  });

  const badMessages: Array<[string, Buffer, RegExp]> = [
    ["an empty message", Buffer.alloc(0), /an empty message, without its control byte/],
    ["an unknown control byte", Buffer.from([2, 0, 0, 0, 0, 0]), /unknown control byte 0x02/],
    ["a finished message with bytes after it", Buffer.from([1, 0]), /has 1 bytes after its control byte/],
  ];
  for (const [what, bytes, message] of badMessages) {
    test(`refuses ${what} with INTERNAL and close 1002`, () => {
      assertRefused(sendingReader().read(bytes, true), Code.INTERNAL, CloseCode.PROTOCOL_ERROR, message);
    });
  }

  test("refuses any message after the client finished sending", () => {
    const reader = sendingReader();
    assert.equal(kindOf(reader.read(FINISHED, true)), "finished");
    assertRefused(
      reader.read(data(message), true),
      Code.INTERNAL,
      CloseCode.PROTOCOL_ERROR,
      /after the client finished/,
    );
  });

  const badFrames: Array<[string, Buffer, RegExp]> = [
    ["the trailer flag", frame(0x80, "t"), /trailer flag \(0x80\)/],
    ["unknown flags", frame(0x02, "x"), /unknown flags 0x2/],
    [
      "the compressed flag without grpc-encoding",
      frame(0x01, "z"),
      /compressed flag but the metadata has no/,
    ],
  ];
  for (const [what, bad, message] of badFrames) {
    test(`refuses a frame with ${what} as soon as its header is in, after good frames, at every split`, () => {
      const stream = Buffer.concat([frame(0, "fine"), bad]);
      for (const [, chunks] of everySplit(stream)) {
        const { error } = sendData(sendingReader(), chunks);
        assertRefused(error, Code.INTERNAL, CloseCode.PROTOCOL_ERROR, message);
      }
    });
  }

  test("a compressed frame is allowed when the metadata names a grpc-encoding", () => {
    const reader = sendingReader({ ...IMPROBABLE_METADATA, "grpc-encoding": "gzip" });
    assert.equal(sendData(reader, [frame(0x01, "zipped")]).error, undefined);
    const identity = sendingReader({ ...IMPROBABLE_METADATA, "grpc-encoding": "identity" });
    assertRefused(sendData(identity, [frame(0x01, "zipped")]).error, Code.INTERNAL, CloseCode.PROTOCOL_ERROR);
  });

  test("refuses an oversized message from its 5-byte header alone, before any payload", () => {
    const header = frame(0, Buffer.alloc(LIMITS.maxMessageBytes + 1)).subarray(0, 5);
    const { error } = sendData(sendingReader(), oneByteAtATime(header));
    assertRefused(
      error,
      Code.RESOURCE_EXHAUSTED,
      CloseCode.MESSAGE_TOO_BIG,
      /request message of 1025 bytes is larger than the limit of 1024 bytes/,
    );
  });

  test("a message of exactly the limit passes", () => {
    const reader = sendingReader();
    assert.equal(sendData(reader, [frame(0, Buffer.alloc(LIMITS.maxMessageBytes))]).error, undefined);
    assert.ok(reader.atFrameBoundary);
  });

  test("after its first refusal a reader answers every message with that same error", () => {
    const reader = sendingReader();
    const first = reader.read(Buffer.from([7]), true);
    assert.ok(first instanceof ClientMessageError);
    assert.equal(reader.read(data(message), true), first);
    assert.equal(reader.read(FINISHED, true), first);
    assert.equal(reader.read(Buffer.from("x"), false), first);
  });
});

describe("ServerMessages", () => {
  const OK = [["grpc-status", "0"]] as const;
  const reply = frame(0, "a reply");

  test("headers, then the trailers: a 0x80 frame each, one message each, read as headers and trailers", () => {
    const server = new ServerMessages();
    assert.equal(server.headersSent, false);
    const headers = server.headers([["x-header", "h"]]);
    assert.equal(server.headersSent, true);
    assert.deepEqual(headers, Buffer.from("\x80\x00\x00\x00\x0cx-header:h\r\n", "latin1"));
    const end = server.end([...OK, ["x-trailer", "t"]]);
    assert.deepEqual(
      end.map((m) => m.toString("latin1")),
      ["\x80\x00\x00\x00\x1cgrpc-status:0\r\nx-trailer:t\r\n"],
    );
    const seen = readServerMessages([headers, reply, ...end]);
    assert.deepEqual(seen.headers, { "x-header": "h" });
    assert.deepEqual(seen.messages, [Buffer.from("a reply")]);
    assert.deepEqual(seen.trailers, { "grpc-status": "0", "x-trailer": "t" });
  });

  test("a call that ends before any headers (a refusal, Trailers-Only) sends an empty headers message first", () => {
    const end = new ServerMessages().end([
      ["grpc-status", String(Code.UNAVAILABLE)],
      ["grpc-message", "no upstream"],
    ]);
    assert.deepEqual(end[0], Buffer.from([0x80, 0, 0, 0, 0]));
    const seen = readServerMessages(end);
    assert.deepEqual(seen.headers, {});
    assert.deepEqual(seen.trailers, { "grpc-status": "14", "grpc-message": "no upstream" });
  });

  test("order is the caller's to keep: a second headers message or a second end throws", () => {
    const server = new ServerMessages();
    server.headers([]);
    assert.throws(() => server.headers([]), /they go once, first/);
    server.end(OK);
    assert.throws(() => server.end(OK), /already ended/);
  });
});

describe("the grpc-websockets protocol, for any input", () => {
  test("any frames, cut into any data messages, reach the upstream byte for byte; finished comes after", () => {
    fc.assert(
      fc.property(fc.array(messageFrame, { maxLength: 6 }), cuts, (frames, at) => {
        const stream = encodeFrames(frames);
        const ends = frameEnds(frames);
        const reader = sendingReader({ "grpc-encoding": "gzip" });
        let offset = 0;
        const forwarded: Buffer[] = [];
        for (const chunk of cutAt(stream, at)) {
          const result = reader.read(data(chunk), true);
          assert.ok(!(result instanceof GrpcError) && result.kind === "data");
          forwarded.push(result.bytes);
          offset += chunk.length;
          assert.equal(reader.atFrameBoundary, offset === 0 || ends.includes(offset));
        }
        assert.deepEqual(Buffer.concat(forwarded), stream);
        assert.equal(kindOf(reader.read(FINISHED, true)), "finished");
      }),
      fuzzRuns(),
    );
  });

  /** Request streams shaped like frames but wrong somewhere: any flags, lengths up to past the limit. */
  const frameLike = fc.record({
    flags: fc.oneof(fc.constantFrom(0x00, 0x01, 0x80, 0x02), fc.integer({ min: 0, max: 255 })),
    payload: fc.uint8Array({ maxLength: 40 }),
    announced: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  });

  /** What the rules say of a request byte stream followed by finished sending, written from docs/websocket.md. */
  function expectedOutcome(stream: Buffer, maxMessageBytes: number): number | "ok" {
    let at = 0;
    while (at < stream.length) {
      if (stream.length - at < 5) return Code.INTERNAL; // finished inside a frame header
      const flags = stream[at] as number;
      const length = stream.readUInt32BE(at + 1);
      if (flags !== 0) return Code.INTERNAL; // trailer, unknown, or compressed without grpc-encoding
      if (length > maxMessageBytes) return Code.RESOURCE_EXHAUSTED;
      at += 5 + length;
      if (at > stream.length) return Code.INTERNAL; // finished inside a payload
    }
    return "ok";
  }

  test("any frame-like request bytes get the outcome the rules give, at any cutting, and never throw", () => {
    fc.assert(
      fc.property(
        fc.array(frameLike, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 64 }),
        cuts,
        (specs, maxMessageBytes, at) => {
          const stream = Buffer.concat(
            specs.map(({ flags, payload, announced }) => {
              const bytes = frame(flags, Buffer.from(payload));
              if (announced !== undefined) bytes.writeUInt32BE(announced, 1);
              return bytes;
            }),
          );
          const outcome = (chunks: Buffer[]) => {
            const reader = new ClientMessageReader({ maxMessageBytes, maxMetadataBytes: 64 });
            kindOf(reader.read(Buffer.alloc(0), true));
            for (const chunk of chunks) {
              const result = reader.read(data(chunk), true);
              if (result instanceof ClientMessageError) return result;
            }
            const end = reader.read(FINISHED, true);
            return end instanceof ClientMessageError ? end : "ok";
          };
          const whole = outcome([stream]);
          const cut = outcome(cutAt(stream, at));
          const expected = expectedOutcome(stream, maxMessageBytes);
          if (expected === "ok") {
            assert.equal(whole, "ok");
            assert.equal(cut, "ok");
          } else {
            assert.ok(whole instanceof ClientMessageError && cut instanceof ClientMessageError);
            assert.equal(whole.code, expected, whole.message);
            // Where the stream is cut may change which error is seen first only by finding it sooner.
            assert.equal(cut.code, expected, cut.message);
          }
        },
      ),
      fuzzRuns(1000),
    );
  });

  test("any sequence of any messages never throws, and once refused stays refused", () => {
    const anyMessage = fc.record({
      bytes: fc.oneof(
        fc.uint8Array({ maxLength: 24 }),
        fc.uint8Array({ maxLength: 24 }).map((b) => Uint8Array.of(0, ...b)),
        fc.constant(Uint8Array.of(1)),
      ),
      isBinary: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(anyMessage, { maxLength: 10 }), (messages) => {
        const reader = new ClientMessageReader({ maxMessageBytes: 16, maxMetadataBytes: 16 });
        let refusal: ClientMessageError | undefined;
        for (const { bytes, isBinary } of messages) {
          const result = reader.read(Buffer.from(bytes), isBinary);
          if (refusal !== undefined) assert.equal(result, refusal);
          else if (result instanceof ClientMessageError) refusal = result;
        }
      }),
      fuzzRuns(1000),
    );
  });

  const name = fc.string({
    unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_."),
    minLength: 1,
  });
  const value = fc
    .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 })
    .map((v) => v.trim());

  test("any metadata improbable's client can write reads back as itself, names lower-cased", () => {
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), (metadata) => {
        const expected: Record<string, string> = {};
        for (const [key, v] of Object.entries(metadata)) {
          const lower = key.toLowerCase();
          expected[lower] = expected[lower] === undefined ? v : `${expected[lower]}, ${v}`;
        }
        const parsed = parseHeaderLines(headerLines(metadata));
        if (parsed instanceof GrpcError) assert.fail(parsed.message);
        assert.deepEqual({ ...parsed }, expected);
      }),
      fuzzRuns(),
    );
  });

  test("any response frames, in any DATA chunks between headers and trailers, read back as the same replies", () => {
    fc.assert(
      fc.property(fc.array(messageFrame, { maxLength: 6 }), cuts, (frames, at) => {
        const server = new ServerMessages();
        const messages = [server.headers([["x-h", "1"]]), ...cutAt(encodeFrames(frames), at)];
        const seen = readServerMessages([...messages, ...server.end([["grpc-status", "0"]])]);
        assert.deepEqual(seen.headers, { "x-h": "1" });
        assert.deepEqual(
          seen.messages,
          frames.map((f) => Buffer.from(f.payload)),
        );
        assert.deepEqual(seen.trailers, { "grpc-status": "0" });
        assert.equal(seen.leftover, 0);
      }),
      fuzzRuns(),
    );
  });
});
