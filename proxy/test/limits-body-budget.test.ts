// The budget for request bodies held by all calls at once (maxBufferedRequestBytes): a call that would go past
// it is refused with RESOURCE_EXHAUSTED before it is forwarded, and the calls holding their share go on.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";
import { Code } from "../src/index.js";
import { frame } from "./support/chunks.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { type ObservedProxy, sample, scrape, startObservedProxy } from "./support/ops-admin.js";

const PATH = "/test.Budget/Hold";
const BUDGET = 100_000;
const body = (bytes: number, text = false) => {
  const framed = frame(0, Buffer.alloc(bytes - 5, 7));
  return text ? Buffer.from(framed.toString("base64")) : framed;
};

/** A call whose body stops after `sent` bytes until `finish` is called: it holds its share meanwhile. */
function heldCall(url: string, whole: Buffer, sent: number) {
  const request = http.request(`${url}${PATH}`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "content-length": whole.length },
  });
  const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
  request.write(whole.subarray(0, sent));
  return {
    async finish(): Promise<{ status: string | undefined; message: string | undefined }> {
      request.end(whole.subarray(sent));
      const response = await answer;
      response.resume();
      await new Promise((resolve) => response.once("end", resolve));
      const { "grpc-status": status, "grpc-message": message } = response.headers;
      return { status: status as string | undefined, message: message as string | undefined };
    },
  };
}

describe("request body budget", () => {
  let upstream: EchoUpstream;
  let proxy: ObservedProxy;
  before(async () => {
    upstream = await startEchoUpstream();
    proxy = await startObservedProxy(upstream.url, { maxBufferedRequestBytes: BUDGET });
  });
  after(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  test("past the budget new calls get RESOURCE_EXHAUSTED; calls holding their share finish", async () => {
    // 60,000 bytes declared, 1,000 sent: the whole 60,000 is held against the budget.
    const held = heldCall(proxy.url, body(60_000), 1_000);
    await waitForHeld(proxy, 60_000);

    const refused = await Promise.all([
      grpcWebCall(proxy.url, PATH, { body: body(50_000) }),
      grpcWebCall(proxy.url, PATH, { body: body(50_000, true), text: true }),
    ]);
    for (const answer of refused) {
      assert.equal(answer.grpcStatus, Code.RESOURCE_EXHAUSTED);
      assert.equal(
        answer.grpcMessage,
        `the proxy holds its limit of ${BUDGET} bytes of request bodies; retry later`,
      );
    }
    const fits = await grpcWebCall(proxy.url, PATH, { body: body(40_000) });
    assert.equal(fits.grpcStatus, Code.OK, "a call that fits beside the held one goes on");
    assert.equal(upstream.seen.length, 1, "the refused calls never reached the backend");

    assert.deepEqual(await held.finish(), { status: "0", message: undefined });
    assert.equal(upstream.seen.length, 2);
    await waitForHeld(proxy, 0);
    const again = await grpcWebCall(proxy.url, PATH, { body: body(50_000) });
    assert.equal(again.grpcStatus, Code.OK, "the budget is given back when calls end");

    const metrics = await scrape(proxy.adminUrl);
    assert.equal(
      metrics.get(sample("grpc_web_bridge_limits_reached_total", { limit: "request_body_budget" })),
      2,
    );
    assert.equal(metrics.get(sample("grpc_web_bridge_rejected_requests_total", { reason: "limit" })), 2);
  });
});

/** Waits until the calls in flight hold `bytes` of the budget. */
async function waitForHeld(proxy: ObservedProxy, bytes: number): Promise<void> {
  while ((await scrape(proxy.adminUrl)).get("grpc_web_bridge_buffered_request_bytes") !== bytes) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
