// One outcome per call, with its cause decided where the call ended: what metrics count as refused,
// and by which reason, follows the cause and never the gRPC code.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CallCause, CallOutcome } from "../src/call/outcome.js";
import { describeCause } from "../src/call/outcome.js";
import { rejectReason } from "../src/ops/tracked-call.js";
import { Code, GrpcError } from "../src/protocol/status.js";
import { frame } from "./support/call-fakes.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { type ObservedProxy, sample, scrape, startObservedProxy } from "./support/ops-admin.js";

const PATH = "/helloworld.Greeter/SayHello";

function outcome(cause: CallCause, forwarded = false): CallOutcome {
  return {
    code: Code.UNKNOWN,
    cause,
    forwarded,
    bytesIn: 0,
    bytesOut: 0,
    messagesOut: 0,
    respondedAt: undefined,
  };
}

test("the refusal reason is the cause's, for calls the backend never saw", () => {
  const cases: [CallCause, string | undefined][] = [
    [{ kind: "limit", limit: "request_message" }, "limit"],
    [{ kind: "interceptor", interceptor: "1" }, "interceptor"],
    [{ kind: "malformed" }, "malformed"],
    [{ kind: "cors" }, "cors"],
    [{ kind: "route" }, "route"],
    [{ kind: "draining" }, "draining"],
    [{ kind: "deadline" }, undefined],
    [{ kind: "client_gone" }, undefined],
    [{ kind: "upstream_failure" }, undefined],
    [{ kind: "backend" }, undefined],
    [{ kind: "shutdown" }, undefined],
  ];
  for (const [cause, reason] of cases)
    assert.equal(rejectReason(outcome(cause)), reason, describeCause(cause));
  assert.equal(rejectReason(outcome({ kind: "limit", limit: "response_message" }, true)), undefined);
});

test("a cause reads as one word in the access log", () => {
  assert.equal(describeCause({ kind: "limit", limit: "calls_per_connection" }), "limit:calls_per_connection");
  assert.equal(describeCause({ kind: "interceptor", interceptor: "2 (quota)" }), "interceptor:2 (quota)");
  assert.equal(describeCause({ kind: "client_gone" }), "client_gone");
});

describe("refusals counted by their cause, through a real proxy", () => {
  let upstream: EchoUpstream;
  let proxy: ObservedProxy;
  before(async () => {
    upstream = await startEchoUpstream();
    proxy = await startObservedProxy(upstream.url, {
      maxMessageBytes: 16,
      interceptors: [
        function quota({ metadata }) {
          if (metadata.get("x-refuse") === "quota")
            return new GrpcError(Code.RESOURCE_EXHAUSTED, "over quota");
          if (metadata.get("x-refuse") === "argument")
            return new GrpcError(Code.INVALID_ARGUMENT, "bad tenant");
          return undefined;
        },
      ],
    });
  });
  after(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  test("an interceptor's RESOURCE_EXHAUSTED and INVALID_ARGUMENT count as interceptor, not limit or malformed", async () => {
    const rejected = async (reason: string) =>
      (await scrape(proxy.adminUrl)).get(sample("grpc_web_bridge_rejected_requests_total", { reason }));
    const call = (headers: Record<string, string>, body = frame("hi")) =>
      grpcWebCall(proxy.url, PATH, { body, headers });

    assert.equal((await call({ "x-refuse": "quota" })).grpcStatus, Code.RESOURCE_EXHAUSTED);
    assert.equal((await call({ "x-refuse": "argument" })).grpcStatus, Code.INVALID_ARGUMENT);
    assert.equal(await rejected("interceptor"), 2);
    assert.equal(await rejected("limit"), 0);
    assert.equal(await rejected("malformed"), 0);

    // The proxy's own limit and a body it cannot read still count as such.
    assert.equal((await call({}, frame("x".repeat(17)))).grpcStatus, Code.RESOURCE_EXHAUSTED);
    assert.equal((await call({}, frame("hi").subarray(0, 6))).grpcStatus, Code.INTERNAL);
    assert.equal(await rejected("limit"), 1);
    assert.equal(await rejected("malformed"), 1);
    assert.equal(await rejected("interceptor"), 2);
    assert.equal(upstream.seen.length, 0, "none of them reached the backend");
  });
});
