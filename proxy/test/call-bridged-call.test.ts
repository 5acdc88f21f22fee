// The bridged call driven hook by hook with a fake browser side and a fake upstream side, the way
// Envoy's grpc_web filter tests call its hooks: every ending, without sockets.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Refusal } from "../src/call/outcome.js";
import { Code, GrpcError } from "../src/protocol/status.js";
import { frame, GRPC_HEADERS, LIMITS, metadataValue, startCall } from "./support/call-fakes.js";

const REQUEST = frame("hello");

/** A started call whose whole request body arrived. */
function sentCall(options: Parameters<typeof startCall>[0] = {}) {
  const started = startCall(options);
  started.listener.requestData(REQUEST);
  started.listener.requestEnd();
  return started;
}

describe("a bridged call, hook by hook", () => {
  test("OK with trailers: headers, messages and a trailer frame, the backend's status as the outcome", async () => {
    const { call, browser, upstream, outcome } = sentCall();
    assert.equal(call.state, "upstream");
    assert.equal(upstream.sent.length, 1);
    assert.deepEqual(upstream.sent[0]?.body, REQUEST);
    assert.equal(upstream.sent[0]?.headers[":authority"], "backend.test:50051");
    assert.equal(upstream.sent[0]?.headers[":path"], "/helloworld.Greeter/SayHello");
    upstream.respond({ ...GRPC_HEADERS, "x-meta": "m" });
    assert.equal(call.state, "streaming");
    const reply = Buffer.concat([frame("one"), frame("two")]);
    upstream.data(reply.subarray(0, 4));
    upstream.data(reply.subarray(4));
    upstream.trailers({ "grpc-status": "0", "x-trailer": "t" });
    assert.equal(browser.last?.kind, "write", "nothing ends before the stream closes");
    upstream.close();
    assert.equal(call.state, "done");
    assert.deepEqual(
      browser.events.map((e) => e.kind),
      ["headers", "write", "write", "finish"],
      "the 4 bytes of a frame header wait for the rest of their message, which goes as one write",
    );
    const writes = browser.events.flatMap((e) => (e.kind === "write" ? [e.bytes] : []));
    assert.deepEqual(writes, [frame("one"), frame("two")]);
    const [headers] = browser.events;
    assert.equal(headers?.kind === "headers" && metadataValue(headers.metadata, "x-meta"), "m");
    assert.deepEqual(browser.body, reply);
    assert.deepEqual(browser.last, {
      kind: "finish",
      trailers: [
        ["grpc-status", "0"],
        ["x-trailer", "t"],
      ],
    });
    assert.equal(upstream.cancels, 0, "a finished stream is never cancelled");
    assert.deepEqual(await outcome, {
      code: Code.OK,
      cause: { kind: "backend" },
      forwarded: true,
      bytesIn: REQUEST.length,
      bytesOut: reply.length,
      messagesOut: 2,
      respondedAt: (await outcome).respondedAt,
    });
    assert.equal(typeof (await outcome).respondedAt, "number");
  });

  test("complete trailers win over the RST_STREAM(NO_ERROR) that may follow them", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond();
    upstream.trailers({ "grpc-status": "5", "grpc-message": "gone" });
    upstream.failureCode = Code.INTERNAL;
    upstream.close();
    assert.equal(browser.last?.kind, "finish");
    assert.equal((await outcome).code, Code.NOT_FOUND);
  });

  test("Trailers-Only: the status in the headers, no body and no empty trailer frame", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond({ ...GRPC_HEADERS, "grpc-status": "7", "grpc-message": "no" }, true);
    assert.deepEqual(browser.events, [
      {
        kind: "trailersOnly",
        metadata: [
          ["grpc-status", "7"],
          ["grpc-message", "no"],
        ],
        closeConnection: false,
      },
    ]);
    assert.equal(upstream.cancels, 0, "a stream that ended is not cancelled");
    upstream.close();
    assert.equal(browser.events.length, 1, "the close after it changes nothing");
    const result = await outcome;
    assert.equal(result.code, Code.PERMISSION_DENIED);
    assert.deepEqual(result.cause, { kind: "backend" });
  });

  test("a grpc-status in headers without END_STREAM ends the call and cancels the rest", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond({ ...GRPC_HEADERS, "grpc-status": "3" }, false);
    assert.equal(browser.last?.kind, "trailersOnly");
    assert.equal(upstream.cancels, 1);
    upstream.data(frame("late"));
    assert.equal(browser.events.length, 1, "DATA after the status is dropped");
    assert.equal((await outcome).code, Code.INVALID_ARGUMENT);
  });

  test("a deadline that has passed already (grpc-timeout: 0n): DEADLINE_EXCEEDED at once, nothing sent", async () => {
    const { browser, upstream, outcome } = startCall({ headers: { "grpc-timeout": "0n" } });
    const result = await outcome;
    assert.equal(result.code, Code.DEADLINE_EXCEEDED);
    assert.deepEqual(result.cause, { kind: "deadline" });
    assert.equal(result.forwarded, false);
    assert.equal(upstream.sent.length, 0);
    assert.equal(browser.last?.kind, "trailersOnly");
  });

  test("deadline before the first byte: DEADLINE_EXCEEDED Trailers-Only, the stream cancelled", async () => {
    const { browser, upstream, outcome } = sentCall({ headers: { "grpc-timeout": "1m" } });
    assert.equal(
      upstream.sent[0]?.headers["grpc-timeout"] !== undefined,
      true,
      "the remaining time goes upstream",
    );
    const result = await outcome;
    assert.equal(result.code, Code.DEADLINE_EXCEEDED);
    assert.deepEqual(result.cause, { kind: "deadline" });
    assert.equal(upstream.cancels, 1);
    const last = browser.last;
    assert.equal(last?.kind, "trailersOnly");
    assert.match(
      last?.kind === "trailersOnly" ? String(metadataValue(last.metadata, "grpc-message")) : "",
      /deadline of 1 ms exceeded at the proxy/,
    );
  });

  test("deadline after the first byte, at a frame boundary: a trailer frame after the messages", async () => {
    const { browser, upstream, outcome } = sentCall({ headers: { "grpc-timeout": "1m" } });
    upstream.respond();
    upstream.data(frame("whole"));
    const result = await outcome;
    assert.equal(result.code, Code.DEADLINE_EXCEEDED);
    assert.deepEqual(
      browser.events.map((e) => e.kind),
      ["headers", "write", "finish"],
    );
    assert.equal(upstream.cancels, 1);
  });

  test("deadline inside a message: the part of it is dropped, the status follows the whole messages", async () => {
    const { browser, upstream, outcome } = sentCall({ headers: { "grpc-timeout": "1m" } });
    upstream.respond();
    const whole = frame("whole");
    upstream.data(Buffer.concat([whole, frame("half of it").subarray(0, 8)]));
    assert.equal((await outcome).code, Code.DEADLINE_EXCEEDED);
    assert.deepEqual(
      browser.events.map((e) => e.kind),
      ["headers", "write", "finish"],
    );
    assert.deepEqual(browser.body, whole);
  });

  test("the browser goes away: the stream is cancelled, CANCELLED with the cause client_gone", async () => {
    const { listener, browser, upstream, outcome } = sentCall();
    upstream.respond();
    listener.browserGone();
    const result = await outcome;
    assert.equal(result.code, Code.CANCELLED);
    assert.deepEqual(result.cause, { kind: "client_gone" });
    assert.equal(upstream.cancels, 1);
    upstream.data(frame("late"));
    upstream.close();
    assert.deepEqual(
      browser.events.map((e) => e.kind),
      ["headers"],
      "nothing is written after the browser left",
    );
  });

  test("the browser goes away while uploading: nothing is sent upstream", async () => {
    const { listener, upstream, outcome } = startCall();
    listener.requestData(REQUEST.subarray(0, 3));
    listener.browserGone();
    listener.requestData(REQUEST.subarray(3));
    listener.requestEnd();
    const result = await outcome;
    assert.equal(result.forwarded, false);
    assert.equal(upstream.sent.length, 0);
    assert.equal(upstream.cancels, 0);
  });

  test("upstream reset before any response: the upstream's failure, Trailers-Only", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.failureCode = Code.INTERNAL;
    upstream.close();
    const result = await outcome;
    assert.equal(result.code, Code.INTERNAL);
    assert.deepEqual(result.cause, { kind: "upstream_failure" });
    const last = browser.last;
    assert.equal(last?.kind, "trailersOnly");
    assert.match(
      last?.kind === "trailersOnly" ? String(metadataValue(last.metadata, "grpc-message")) : "",
      /responded: false/,
    );
  });

  test("upstream reset at a frame boundary: the messages, then the failure in a trailer frame", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond();
    upstream.data(frame("one"));
    upstream.close();
    const result = await outcome;
    assert.equal(result.code, Code.UNAVAILABLE);
    assert.equal(result.messagesOut, 1);
    const last = browser.last;
    assert.equal(last?.kind, "finish");
    assert.match(
      last?.kind === "finish" ? String(metadataValue(last.trailers, "grpc-message")) : "",
      /responded: true/,
    );
  });

  test("upstream gone inside a message: the whole messages, then UNAVAILABLE in a trailer frame", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond();
    upstream.data(Buffer.concat([frame("one"), frame("two").subarray(0, 3)]));
    upstream.close();
    const result = await outcome;
    assert.equal(result.code, Code.UNAVAILABLE);
    assert.deepEqual(result.cause, { kind: "upstream_failure" });
    assert.equal(result.messagesOut, 1);
    assert.equal(result.bytesOut, frame("one").length);
    assert.deepEqual(browser.body, frame("one"));
    const last = browser.last;
    assert.equal(last?.kind, "finish");
    assert.equal(
      last?.kind === "finish" ? metadataValue(last.trailers, "grpc-message") : undefined,
      "the backend went away in the middle of a message (fake failure (responded: true))",
    );
  });

  test("fed one byte at a time, the browser gets each message whole as its last byte arrives", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond();
    const messages = [frame(""), frame("one"), frame("a longer second message"), frame("three")];
    const bytes = Buffer.concat(messages);
    const writes: number[] = [];
    for (let at = 0; at < bytes.length; at++) {
      upstream.data(bytes.subarray(at, at + 1));
      const written = browser.events.filter((e) => e.kind === "write").length;
      if (written > writes.length) writes.push(at + 1);
    }
    let end = 0;
    assert.deepEqual(
      writes,
      messages.map((m) => {
        end += m.length;
        return end;
      }),
      "one write as each message's last byte arrives",
    );
    assert.deepEqual(
      browser.events.filter((e) => e.kind === "write").map((e) => e.kind === "write" && e.bytes),
      messages,
    );
    // Then the backend dies inside a fifth message.
    for (const byte of frame("lost")) upstream.data(Buffer.from([byte]));
    upstream.data(frame("x").subarray(0, 2));
    upstream.close();
    assert.equal((await outcome).code, Code.UNAVAILABLE);
    assert.deepEqual(browser.body, Buffer.concat([...messages, frame("lost")]));
    assert.equal(browser.last?.kind, "finish");
  });

  test("whole messages are never delayed: a chunk's whole frames go at once, only its partial tail waits", () => {
    const { browser, upstream } = sentCall();
    upstream.respond();
    const [one, two, three] = [frame("one"), frame("two"), frame("three")];
    upstream.data(Buffer.concat([one, two, three.subarray(0, 4)]));
    assert.deepEqual(browser.body, Buffer.concat([one, two]));
    upstream.data(three.subarray(4));
    assert.deepEqual(browser.body, Buffer.concat([one, two, three]));
  });

  test("trailers after part of a message: the whole messages, then INTERNAL", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond();
    upstream.data(Buffer.concat([frame("one"), frame("two").subarray(0, 6)]));
    upstream.trailers({ "grpc-status": "0" });
    upstream.close();
    const result = await outcome;
    assert.equal(result.code, Code.INTERNAL);
    assert.deepEqual(browser.body, frame("one"));
    assert.equal(browser.last?.kind, "finish");
  });

  test("a non-gRPC reply (an HTML 503 page) becomes UNAVAILABLE with the page's start as the message", async () => {
    const { call, browser, upstream, outcome } = sentCall();
    upstream.respond({ ":status": "503", "content-type": "text/html" });
    assert.equal(call.state, "non_grpc");
    upstream.data(Buffer.from("<html>Service Unavailable</html>"));
    upstream.close();
    const result = await outcome;
    assert.equal(result.code, Code.UNAVAILABLE);
    assert.deepEqual(result.cause, { kind: "upstream_failure" });
    const last = browser.last;
    assert.equal(last?.kind, "trailersOnly");
    const message = last?.kind === "trailersOnly" ? String(metadataValue(last.metadata, "grpc-message")) : "";
    assert.match(message, /503/);
    assert.match(message, /Service Unavailable/);
  });

  test("a non-gRPC head with grpc-status in its trailers: that status, in the headers", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.respond({ ":status": "200", "content-type": "text/plain" });
    upstream.trailers({ "grpc-status": "14", "grpc-message": "down" });
    upstream.close();
    assert.equal((await outcome).code, Code.UNAVAILABLE);
    assert.deepEqual(
      browser.events.map((e) => e.kind),
      ["trailersOnly"],
    );
  });

  test("interceptor refusal after the body: its status, its cause, never forwarded", async () => {
    const refusal: Refusal = {
      error: new GrpcError(Code.RESOURCE_EXHAUSTED, "tenant over quota"),
      cause: { kind: "interceptor", interceptor: "1 (quota)" },
    };
    const { call, browser, upstream, outcome } = sentCall({ interception: Promise.resolve(refusal) });
    assert.equal(call.state, "intercepting", "the body waits for the verdict");
    const result = await outcome;
    assert.equal(result.code, Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(result.cause, { kind: "interceptor", interceptor: "1 (quota)" });
    assert.equal(result.forwarded, false);
    assert.equal(upstream.sent.length, 0);
    assert.deepEqual(browser.last?.kind === "trailersOnly" && browser.last.closeConnection, false);
  });

  test("interceptor refusal while the body is arriving: the connection closes after the answer", async () => {
    const refusal: Refusal = {
      error: new GrpcError(Code.UNAUTHENTICATED, "no token"),
      cause: { kind: "interceptor", interceptor: "1" },
    };
    const { listener, browser, upstream, outcome } = startCall({ interception: Promise.resolve(refusal) });
    listener.requestData(REQUEST.subarray(0, 2));
    await outcome;
    assert.equal(browser.last?.kind === "trailersOnly" && browser.last.closeConnection, true);
    listener.requestData(REQUEST.subarray(2));
    listener.requestEnd();
    assert.equal(upstream.sent.length, 0);
  });

  test("an interceptor that lets the call through before the body ends: sent at the body's end", async () => {
    let admit: (r: Refusal | undefined) => void = () => {};
    const interception = new Promise<Refusal | undefined>((resolve) => {
      admit = resolve;
    });
    const { call, listener, upstream } = startCall({ interception });
    admit(undefined);
    await interception;
    await Promise.resolve();
    assert.equal(call.state, "reading");
    assert.equal(upstream.sent.length, 0);
    listener.requestData(REQUEST);
    listener.requestEnd();
    assert.equal(call.state, "upstream");
    assert.equal(upstream.sent.length, 1);
  });

  test("a stream the backend never saw is sent once more, and fails the second time", async () => {
    const { call, browser, upstream, outcome, outcomes } = sentCall();
    upstream.neverSent = true;
    upstream.close();
    assert.equal(call.state, "upstream");
    assert.equal(upstream.sent.length, 2, "sent again");
    assert.deepEqual(upstream.sent[1]?.body, REQUEST);
    assert.equal(outcomes.length, 0);
    upstream.close();
    assert.equal(upstream.sent.length, 2, "never a third time");
    assert.equal((await outcome).code, Code.UNAVAILABLE);
    assert.equal(browser.last?.kind, "trailersOnly");
  });

  test("a retried stream that the backend answers ends as usual", async () => {
    const { browser, upstream, outcome } = sentCall();
    upstream.neverSent = true;
    upstream.close();
    upstream.neverSent = false;
    upstream.respond({ ...GRPC_HEADERS, "grpc-status": "0" }, true);
    upstream.close();
    assert.equal((await outcome).code, Code.OK);
    assert.deepEqual(
      browser.events.map((e) => e.kind),
      ["trailersOnly"],
    );
  });

  test("a stream that failed after the backend saw it is not sent again", async () => {
    const { upstream, outcome } = sentCall();
    upstream.close();
    assert.equal(upstream.sent.length, 1);
    assert.equal((await outcome).code, Code.UNAVAILABLE);
  });

  test("an oversized request message: RESOURCE_EXHAUSTED as soon as its header arrives, never forwarded", async () => {
    const { listener, browser, upstream, outcome } = startCall({
      limits: { ...LIMITS, maxMessageBytes: 4 },
    });
    listener.requestData(REQUEST.subarray(0, 5));
    const result = await outcome;
    assert.equal(result.code, Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(result.cause, { kind: "limit", limit: "request_message" });
    assert.equal(result.forwarded, false);
    assert.equal(result.bytesIn, 0);
    assert.equal(upstream.sent.length, 0);
    assert.equal(browser.last?.kind === "trailersOnly" && browser.last.closeConnection, true);
  });

  test("an oversized response message: the whole frames before it pass, then a trailer frame", async () => {
    const { browser, upstream, outcome } = sentCall({ limits: { ...LIMITS, maxResponseMessageBytes: 8 } });
    upstream.respond();
    const small = frame("fits");
    upstream.data(Buffer.concat([small, frame("far too large")]));
    const result = await outcome;
    assert.equal(result.code, Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(result.cause, { kind: "limit", limit: "response_message" });
    assert.equal(result.forwarded, true);
    assert.deepEqual(browser.body, small);
    assert.equal(browser.last?.kind, "finish");
    assert.equal(upstream.cancels, 1);
  });

  test("an oversized response message whose header began in an earlier chunk: a trailer frame after the messages", async () => {
    const { browser, upstream, outcome } = sentCall({ limits: { ...LIMITS, maxResponseMessageBytes: 8 } });
    upstream.respond();
    const small = frame("fits");
    const big = frame("far too large");
    upstream.data(Buffer.concat([small, big.subarray(0, 2)]));
    upstream.data(big.subarray(2));
    assert.equal((await outcome).code, Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(browser.body, small);
    assert.equal(browser.last?.kind, "finish");
  });

  test("a trailer-flagged frame in the response DATA is the backend's fault", async () => {
    const { upstream, outcome } = sentCall();
    upstream.respond();
    upstream.data(frame("grpc-status:0\r\n", 0x80));
    const result = await outcome;
    assert.equal(result.code, Code.INTERNAL);
    assert.deepEqual(result.cause, { kind: "upstream_failure" });
  });

  test("a malformed grpc-timeout: INTERNAL at once, malformed, never forwarded", async () => {
    const { upstream, outcome } = startCall({ headers: { "grpc-timeout": "10s" } });
    const result = await outcome;
    assert.deepEqual(result.cause, { kind: "malformed" });
    assert.notEqual(result.code, Code.OK);
    assert.equal(upstream.sent.length, 0);
  });

  test("a truncated request body is malformed", async () => {
    const { listener, browser, outcome } = startCall();
    listener.requestData(REQUEST.subarray(0, 7));
    listener.requestEnd();
    const result = await outcome;
    assert.equal(result.code, Code.INTERNAL);
    assert.deepEqual(result.cause, { kind: "malformed" });
    assert.equal(browser.last?.kind === "trailersOnly" && browser.last.closeConnection, false);
  });

  test("grpc-web-text: the body is base64 decoded before it goes upstream", () => {
    const { listener, upstream } = startCall({ contentType: { text: true, suffix: "" } });
    const text = REQUEST.toString("base64");
    listener.requestData(Buffer.from(text.slice(0, 5)));
    listener.requestData(Buffer.from(text.slice(5)));
    listener.requestEnd();
    assert.deepEqual(upstream.sent[0]?.body, REQUEST);
  });

  test("nowhere to send: the upstream's GrpcError, an upstream failure, not forwarded", async () => {
    const started = startCall();
    started.upstream.refuseWith = new GrpcError(Code.UNAVAILABLE, "upstream default has no addresses");
    started.listener.requestData(REQUEST);
    started.listener.requestEnd();
    const result = await started.outcome;
    assert.equal(result.code, Code.UNAVAILABLE);
    assert.deepEqual(result.cause, { kind: "upstream_failure" });
    assert.equal(result.forwarded, false);
  });

  test("headers node:http2 refuses to send: INTERNAL, malformed", async () => {
    const started = startCall();
    started.upstream.refuseWith = new TypeError('Invalid value "\\n" for header "x-bad"');
    started.listener.requestData(REQUEST);
    started.listener.requestEnd();
    const result = await started.outcome;
    assert.equal(result.code, Code.INTERNAL);
    assert.deepEqual(result.cause, { kind: "malformed" });
  });

  test("backpressure: a write the browser cannot take pauses the stream until it drains", () => {
    const { listener, browser, upstream } = sentCall();
    upstream.respond();
    browser.accepting = false;
    upstream.data(frame("one"));
    assert.equal(upstream.paused, true);
    upstream.data(frame("two"));
    browser.accepting = true;
    listener.browserDrained();
    assert.equal(upstream.paused, false);
    listener.browserDrained();
    assert.equal(upstream.paused, false);
  });

  test("abort (a draining proxy): UNAVAILABLE after the messages, the cause shutdown", async () => {
    const { call, browser, upstream, outcome } = sentCall();
    upstream.respond();
    upstream.data(frame("one"));
    call.abort(new GrpcError(Code.UNAVAILABLE, "the proxy is shutting down"));
    const result = await outcome;
    assert.deepEqual(result.cause, { kind: "shutdown" });
    assert.equal(browser.last?.kind, "finish");
    assert.equal(upstream.cancels, 1);
  });

  test("every ending is reported once, whatever comes after it", async () => {
    const { call, listener, upstream, outcomes } = sentCall({ headers: { "grpc-timeout": "1m" } });
    upstream.respond();
    upstream.trailers({ "grpc-status": "0" });
    upstream.close();
    listener.browserGone();
    call.abort(new GrpcError(Code.UNAVAILABLE, "late"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]?.code, Code.OK);
  });

  test("the stream idle timeout ends a silent call as a limit", async () => {
    const { browser, outcome } = sentCall({ limits: { ...LIMITS, streamIdleTimeoutMs: 1 } });
    const result = await outcome;
    assert.equal(result.code, Code.UNAVAILABLE);
    assert.deepEqual(result.cause, { kind: "limit", limit: "stream_idle" });
    assert.equal(browser.last?.kind, "trailersOnly");
  });
});
