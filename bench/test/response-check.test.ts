import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { frame, helloReplyPayload, TRAILER_FLAG } from "../wire/frames.js";
import { ResponseCheck } from "../wire/response-check.js";

const payload = helloReplyPayload("Hello bench");
const ok = frame(Buffer.from("grpc-status:0\r\ngrpc-message:\r\n"), TRAILER_FLAG);

function feed(check: ResponseCheck, body: Buffer, chunkSize: number): void {
  for (let at = 0; at < body.length; at += chunkSize) check.push(body.subarray(at, at + chunkSize));
}

describe("ResponseCheck", () => {
  it("verifies replies and the trailer frame split at every chunk size", () => {
    const body = Buffer.concat([frame(payload), frame(payload), ok]);
    for (let size = 1; size <= body.length; size++) {
      const check = new ResponseCheck({ payload, messages: 2 });
      feed(check, body, size);
      assert.equal(check.verdict(), undefined, `chunk size ${size}`);
      assert.equal(check.messages, 2);
    }
  });

  it("rejects a non-zero grpc-status, whatever the replies", () => {
    const check = new ResponseCheck({ payload, messages: 1 });
    check.push(Buffer.concat([frame(payload), frame(Buffer.from("Grpc-Status: 14\r\n"), TRAILER_FLAG)]));
    assert.equal(check.verdict(), "grpc-status 14");
  });

  it("rejects a reply that differs from the expected one", () => {
    const check = new ResponseCheck({ payload, messages: 1 });
    check.push(Buffer.concat([frame(helloReplyPayload("Hello other")), ok]));
    assert.equal(check.verdict(), "reply differs from the expected one");
  });

  it("rejects a response without a trailer frame, or one cut inside a frame", () => {
    const noTrailer = new ResponseCheck({ payload, messages: 1 });
    noTrailer.push(frame(payload));
    assert.equal(noTrailer.verdict(), "no grpc-status trailer");
    const cut = new ResponseCheck({ payload, messages: 1 });
    cut.push(frame(payload).subarray(0, 7));
    assert.equal(cut.verdict(), "response ended inside a frame");
  });

  it("rejects too few replies and frames after the trailer frame", () => {
    const few = new ResponseCheck({ payload, messages: 3 });
    few.push(Buffer.concat([frame(payload), ok]));
    assert.equal(few.verdict(), "expected 3 replies, got 1");
    const late = new ResponseCheck({ payload, messages: 1 });
    late.push(Buffer.concat([frame(payload), ok, frame(payload)]));
    assert.equal(late.verdict(), "frame after the trailer frame");
  });

  it("takes the status from HTTP/2 trailers for native gRPC", () => {
    const check = new ResponseCheck({ payload, messages: 1 });
    check.push(frame(payload));
    check.trailers("0");
    assert.equal(check.verdict(), undefined);
  });

  it("verifies a 1 MiB reply that arrives in many chunks", () => {
    const large = helloReplyPayload("x".repeat(1024 * 1024));
    const check = new ResponseCheck({ payload: large, messages: 1 });
    feed(check, Buffer.concat([frame(large), ok]), 16 * 1024);
    assert.equal(check.verdict(), undefined);
  });
});
