// The bridged call with a browser side whose request streams (a WebSocket's), hook by hook with fakes of both ports:
// request bytes go upstream as they arrive, backpressure both ways, half-close, cancel, retry only while nothing
// went upstream.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Refusal } from "../src/call/outcome.js";
import { Code, GrpcError } from "../src/protocol/status.js";
import { FakeStreamingBrowser, frame, GRPC_HEADERS, metadataValue, startCall } from "./support/call-fakes.js";

/** The interceptors' verdict, to be given by the test. */
function pendingInterception() {
  let decide: (refusal: Refusal | undefined) => void = () => {};
  const interception = new Promise<Refusal | undefined>((resolve) => {
    decide = resolve;
  });
  return { interception, decide };
}

const streamedCall = (request: Parameters<typeof startCall>[0] = {}) =>
  startCall(request, new FakeStreamingBrowser());

describe("a call whose request streams", () => {
  test("the stream opens without a body at once; each message goes up as it arrives; finished sending half-closes", async () => {
    const { call, browser, upstream, listener, outcome } = streamedCall();
    assert.equal(call.state, "upstream");
    assert.deepEqual(upstream.sent.length, 1);
    assert.equal(upstream.sent[0]?.body, undefined, "no body: the request stays open");
    upstream.respond();
    listener.requestData(frame("one"));
    assert.deepEqual(upstream.written, [frame("one")]);
    upstream.data(frame("reply one"));
    listener.requestData(frame("two"));
    upstream.data(frame("reply two"));
    assert.deepEqual(upstream.written, [frame("one"), frame("two")]);
    assert.equal(upstream.requestEnded, false);
    listener.requestEnd();
    assert.equal(upstream.requestEnded, true);
    assert.equal(call.state, "streaming", "replies keep flowing after the half-close");
    upstream.data(frame("reply three"));
    upstream.trailers({ "grpc-status": "0" });
    upstream.close();
    assert.deepEqual(
      browser.body,
      Buffer.concat([frame("reply one"), frame("reply two"), frame("reply three")]),
    );
    assert.equal(browser.last?.kind, "finish");
    const ended = await outcome;
    assert.equal(ended.code, Code.OK);
    assert.equal(ended.bytesIn, frame("one").length + frame("two").length);
    assert.equal(ended.messagesOut, 3);
    assert.equal(upstream.cancels, 0);
  });

  test("while the interceptors decide, messages are held and the browser paused; let through, they go up in order", async () => {
    const { interception, decide } = pendingInterception();
    const { call, browser, upstream, listener } = streamedCall({ interception });
    listener.requestData(frame("early"));
    assert.equal(browser.paused, true);
    listener.requestEnd();
    assert.equal(call.state, "reading");
    assert.equal(upstream.sent.length, 0, "nothing upstream before the interceptors decide");
    decide(undefined);
    await interception;
    await Promise.resolve();
    assert.equal(call.state, "upstream");
    assert.deepEqual(upstream.written, [frame("early")]);
    assert.equal(upstream.requestEnded, true);
    assert.equal(browser.paused, false);
  });

  test("refused by an interceptor: held messages never go up; the status ends the call", async () => {
    const { interception, decide } = pendingInterception();
    const { browser, upstream, listener, outcome } = streamedCall({ interception });
    listener.requestData(frame("secret"));
    decide({
      error: new GrpcError(Code.UNAUTHENTICATED, "no token"),
      cause: { kind: "interceptor", interceptor: "1" },
    });
    const ended = await outcome;
    assert.equal(ended.code, Code.UNAUTHENTICATED);
    assert.equal(ended.forwarded, false);
    assert.equal(upstream.sent.length, 0);
    assert.equal(browser.last?.kind, "trailersOnly");
  });

  test("a backend not keeping up pauses the browser's reading until its stream drains", () => {
    const { browser, upstream, listener } = streamedCall();
    upstream.keepingUp = false;
    listener.requestData(frame("big"));
    assert.equal(browser.paused, true);
    upstream.drained();
    assert.equal(browser.paused, false);
  });

  test("a browser not keeping up pauses the upstream stream until it drains", () => {
    const { browser, upstream, listener } = streamedCall();
    upstream.respond();
    browser.accepting = false;
    upstream.data(frame("reply"));
    assert.equal(upstream.paused, true);
    listener.browserDrained();
    assert.equal(upstream.paused, false);
  });

  test("the browser going away mid-stream cancels the upstream stream; the outcome is CANCELLED", async () => {
    const { upstream, listener, outcome } = streamedCall();
    upstream.respond();
    listener.requestData(frame("one"));
    listener.browserGone();
    assert.equal(upstream.cancels, 1);
    const ended = await outcome;
    assert.equal(ended.code, Code.CANCELLED);
    assert.equal(ended.cause.kind, "client_gone");
  });

  test("a request the browser side's reader refuses ends the call with its status and cancels upstream", async () => {
    const { browser, upstream, listener, outcome } = streamedCall();
    upstream.respond();
    listener.requestFailed(new GrpcError(Code.RESOURCE_EXHAUSTED, "too big"));
    assert.equal(upstream.cancels, 1);
    assert.equal(browser.last?.kind, "finish");
    const last = browser.last;
    assert.equal(last?.kind === "finish" && metadataValue(last.trailers, "grpc-status"), "8");
    const ended = await outcome;
    assert.deepEqual(ended.cause, { kind: "limit", limit: "request_message" });
  });

  test("the backend ends the call before the browser finished sending: its trailers end it; later messages are dropped", async () => {
    const { browser, upstream, listener, outcome } = streamedCall();
    upstream.respond();
    listener.requestData(frame("one"));
    upstream.trailers({ "grpc-status": String(Code.FAILED_PRECONDITION), "grpc-message": "enough" });
    upstream.close();
    listener.requestData(frame("late"));
    listener.requestEnd();
    assert.deepEqual(upstream.written, [frame("one")]);
    assert.equal(upstream.requestEnded, false, "a closed stream is not written to");
    assert.equal(browser.last?.kind, "finish");
    assert.equal((await outcome).code, Code.FAILED_PRECONDITION);
  });

  test("a stream the backend never saw is sent again only while no request byte went up", () => {
    const fresh = streamedCall();
    fresh.upstream.neverSent = true;
    fresh.upstream.close();
    assert.equal(fresh.upstream.sent.length, 2, "nothing was sent: a second stream");
    assert.equal(fresh.call.state, "upstream");

    const used = streamedCall();
    used.listener.requestData(frame("one"));
    used.upstream.neverSent = true;
    used.upstream.close();
    assert.equal(used.upstream.sent.length, 1, "its bytes went to the lost stream: never replayed");
    assert.equal(used.call.state, "done");
    assert.equal(used.browser.last?.kind, "trailersOnly");
  });

  test("the deadline ends a client that never finishes sending: DEADLINE_EXCEEDED, upstream cancelled", async () => {
    const { upstream, listener, browser, outcome } = streamedCall({ headers: { "grpc-timeout": "30m" } });
    upstream.respond(GRPC_HEADERS);
    listener.requestData(frame("one"));
    const ended = await outcome;
    assert.equal(ended.code, Code.DEADLINE_EXCEEDED);
    assert.equal(upstream.cancels, 1);
    assert.equal(browser.last?.kind, "finish");
  });
});
