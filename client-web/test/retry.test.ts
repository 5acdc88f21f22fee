import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  type StreamRequest,
  type UnaryRequest,
} from "@connectrpc/connect";
import { Greeter, HelloRequestSchema } from "../src/greeter.js";
import { backoffMs, retryInterceptor } from "../src/retry.js";
import { parseGrpcTimeout } from "../src/timeout.js";

// The interceptor on its own, around a `next` that fails with the given codes in turn and then
// succeeds; the end-to-end retry through the proxy is in browser.test.ts.
function failingNext(codes: Code[]) {
  const seen: Headers[] = [];
  const next = async (req: UnaryRequest | StreamRequest) => {
    seen.push(req.header);
    const code = codes[seen.length - 1];
    if (code !== undefined) throw new ConnectError(`attempt ${seen.length}`, code);
    return { ok: seen.length } as never;
  };
  return { next, seen };
}

function unaryRequest(header: HeadersInit = {}, signal = new AbortController().signal): UnaryRequest {
  return {
    stream: false,
    service: Greeter,
    method: Greeter.method.sayHello,
    requestMethod: "POST",
    url: "http://127.0.0.1/helloworld.Greeter/SayHello",
    signal,
    header: new Headers(header),
    contextValues: createContextValues(),
    message: create(HelloRequestSchema, { name: "a" }),
  };
}

const fast = { initialBackoffMs: 1, maxBackoffMs: 1 };

test("full-jitter backoff doubles its bound per retry up to the cap", () => {
  const bounds = [1, 2, 3, 4, 5, 6].map((retry) => backoffMs(retry, 100, 2000, () => 1));
  assert.deepEqual(bounds, [100, 200, 400, 800, 1600, 2000]);
  assert.equal(
    backoffMs(3, 100, 2000, () => 0),
    0,
  );
  assert.equal(
    backoffMs(2, 100, 2000, () => 0.5),
    100,
  );
});

test("UNAVAILABLE is retried until an attempt succeeds", async () => {
  const { next, seen } = failingNext([Code.Unavailable, Code.Unavailable]);
  const result = await retryInterceptor(fast)(next)(unaryRequest());
  assert.deepEqual(result, { ok: 3 });
  assert.equal(seen.length, 3);
});

test("after maxAttempts the last error is thrown", async () => {
  const { next, seen } = failingNext([Code.Unavailable, Code.Unavailable, Code.Unavailable]);
  await assert.rejects(retryInterceptor({ ...fast, maxAttempts: 2 })(next)(unaryRequest()), /attempt 2/);
  assert.equal(seen.length, 2);
});

test("codes that may mean the server acted are not retried unless asked for", async () => {
  const internal = failingNext([Code.Internal]);
  await assert.rejects(retryInterceptor(fast)(internal.next)(unaryRequest()), /attempt 1/);
  assert.equal(internal.seen.length, 1);
  const aborted = failingNext([Code.Aborted]);
  await retryInterceptor({ ...fast, retryableCodes: [Code.Aborted] })(aborted.next)(unaryRequest());
  assert.equal(aborted.seen.length, 2);
});

test("streaming calls pass through without retries", async () => {
  const { next, seen } = failingNext([Code.Unavailable]);
  const stream: StreamRequest = {
    ...unaryRequest(),
    stream: true,
    method: Greeter.method.sayHelloStreamReply,
    message: (async function* () {
      yield create(HelloRequestSchema);
    })(),
  };
  await assert.rejects(retryInterceptor(fast)(next)(stream), /attempt 1/);
  assert.equal(seen.length, 1);
});

test("a retry tells the server the time left of the deadline", async () => {
  const { next, seen } = failingNext([Code.Unavailable]);
  await retryInterceptor(fast)(next)(unaryRequest({ "grpc-timeout": "5S" }));
  assert.equal(seen[0]?.get("grpc-timeout"), "5S");
  const remaining = parseGrpcTimeout(seen[1]?.get("grpc-timeout") ?? null);
  assert.ok(remaining !== undefined && remaining <= 5000 && remaining > 4000, String(remaining));
});

test("no retry whose pause would end past the deadline", async (t) => {
  t.mock.method(Math, "random", () => 0.9);
  const { next, seen } = failingNext([Code.Unavailable]);
  const started = Date.now();
  const policy = { initialBackoffMs: 1000, maxBackoffMs: 1000 };
  await assert.rejects(retryInterceptor(policy)(next)(unaryRequest({ "grpc-timeout": "500m" })), /attempt 1/);
  assert.equal(seen.length, 1);
  assert.ok(Date.now() - started < 200, "it gave up at once instead of waiting");
});

test("aborting during the pause ends the call with the signal's reason", async (t) => {
  t.mock.method(Math, "random", () => 1);
  const controller = new AbortController();
  const { next } = failingNext([Code.Unavailable]);
  const call = retryInterceptor({ initialBackoffMs: 10_000 })(next)(unaryRequest({}, controller.signal));
  setTimeout(() => controller.abort(new ConnectError("stop", Code.Canceled)), 20);
  await assert.rejects(call, (error) => error instanceof ConnectError && error.code === Code.Canceled);
});
