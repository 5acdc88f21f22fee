// The interop TestService the WebSocket tests run against, checked natively (no proxy) with a @grpc/grpc-js client:
// each of its five methods, the echo metadata, an echoed status, and a cancel the service observes.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type Client,
  credentials,
  type Metadata as GrpcMetadata,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import type { Listener } from "./support/h2c-server.js";
import {
  ECHO_INITIAL,
  ECHO_TRAILING,
  startInteropTestService,
  testServiceDefinition,
} from "./support/interop-test-service.js";
import { ObservationLog } from "./support/observations.js";

type Reply = { payload?: { body: Uint8Array }; aggregatedPayloadSize?: number };
type Stream = NodeJS.EventEmitter & {
  write(message: unknown): boolean;
  end(): void;
  cancel(): void;
};
type MethodName =
  | "UnaryCall"
  | "StreamingOutputCall"
  | "StreamingInputCall"
  | "FullDuplexCall"
  | "HalfDuplexCall";
type TestClient = Client & Record<MethodName, (...args: unknown[]) => Stream>;

const sizes = (replies: Reply[]) => replies.map((r) => r.payload?.body.length);
const echoMetadata = () => {
  const metadata = new Metadata();
  metadata.set(ECHO_INITIAL, "initial-value");
  metadata.set(ECHO_TRAILING, Buffer.from([0, 1, 254, 255]));
  return metadata;
};

/** Collects a streaming call's replies, headers, and how it ended. */
function settle(call: Stream) {
  const replies: Reply[] = [];
  let headers: GrpcMetadata | undefined;
  call.on("data", (reply: Reply) => replies.push(reply));
  call.on("metadata", (metadata: GrpcMetadata) => (headers = metadata));
  return new Promise<{
    replies: Reply[];
    headers?: GrpcMetadata;
    trailers?: GrpcMetadata;
    error?: ServiceError;
  }>((resolve) => {
    call.on("error", (error: ServiceError) => resolve({ replies, headers, error }));
    call.on("status", (s: { code: number; metadata: GrpcMetadata }) => {
      if (s.code === status.OK) resolve({ replies, headers, trailers: s.metadata });
    });
  });
}

describe("interop TestService on @grpc/grpc-js, called natively", () => {
  const log = new ObservationLog();
  let service: Listener;
  let client: TestClient;

  before(async () => {
    service = await startInteropTestService(log);
    const Constructor = makeGenericClientConstructor(testServiceDefinition(), "TestService");
    client = new Constructor(
      `127.0.0.1:${service.port}`,
      credentials.createInsecure(),
    ) as unknown as TestClient;
  });
  after(async () => {
    client?.close();
    await service?.close();
  });

  test("UnaryCall replies with the size asked for and echoes the echo metadata", async () => {
    let headers: GrpcMetadata | undefined;
    let trailers: GrpcMetadata | undefined;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const call = client.UnaryCall(
        { responseSize: 314 },
        echoMetadata(),
        (error: ServiceError | null, value: Reply) => (error ? reject(error) : resolve(value)),
      );
      call.on("metadata", (m: GrpcMetadata) => (headers = m));
      call.on("status", (s: { metadata: GrpcMetadata }) => (trailers = s.metadata));
    });
    assert.equal(reply.payload?.body.length, 314);
    assert.deepEqual(headers?.get(ECHO_INITIAL), ["initial-value"]);
    assert.deepEqual(trailers?.get(ECHO_TRAILING), [Buffer.from([0, 1, 254, 255])]);
    const seen = await log.waitFor((o) => o.method === "UnaryCall" && o.event === "finished");
    assert.equal(seen.metadata[ECHO_INITIAL], "initial-value");
  });

  test("UnaryCall ends with the status the request asks for", async () => {
    const error = await new Promise<ServiceError>((resolve) =>
      client.UnaryCall({ responseStatus: { code: 2, message: "test status message" } }, (e: ServiceError) =>
        resolve(e),
      ),
    );
    assert.equal(error.code, 2);
    assert.equal(error.details, "test status message");
  });

  test("StreamingOutputCall sends one reply per response parameter, then the status asked for", async () => {
    const ok = await settle(
      client.StreamingOutputCall({
        responseParameters: [{ size: 31415 }, { size: 9 }, { size: 2653, intervalUs: 2000 }, { size: 0 }],
      }),
    );
    assert.deepEqual(sizes(ok.replies), [31415, 9, 2653, 0]);
    const failed = await settle(
      client.StreamingOutputCall({
        responseParameters: [{ size: 1 }],
        responseStatus: { code: status.ABORTED, message: "after one" },
      }),
    );
    assert.deepEqual(sizes(failed.replies), [1]);
    assert.equal(failed.error?.code, status.ABORTED);
  });

  test("StreamingInputCall adds up the payload sizes of every request", async () => {
    const reply = await new Promise<Reply>((resolve, reject) => {
      const call = client.StreamingInputCall((error: ServiceError | null, value: Reply) =>
        error ? reject(error) : resolve(value),
      );
      for (const size of [27182, 8, 1828, 45904]) {
        call.write({ payload: { body: new Uint8Array(size) } });
      }
      call.end();
    });
    assert.equal(reply.aggregatedPayloadSize, 74922);
  });

  test("FullDuplexCall answers each request as it comes, and HalfDuplexCall only after the half-close", async () => {
    for (const method of ["FullDuplexCall", "HalfDuplexCall"] as const) {
      const call = client[method](echoMetadata());
      const outcome = settle(call);
      let before = -1;
      if (method === "FullDuplexCall") {
        call.write({ responseParameters: [{ size: 5 }] });
        before = await new Promise<number>((resolve) => call.once("data", () => resolve(1)));
      }
      call.write({ responseParameters: [{ size: 6 }, { size: 7 }] });
      call.end();
      const { replies, headers, trailers } = await outcome;
      assert.deepEqual(sizes(replies), method === "FullDuplexCall" ? [5, 6, 7] : [6, 7], method);
      if (method === "FullDuplexCall") assert.equal(before, 1);
      assert.deepEqual(headers?.get(ECHO_INITIAL), ["initial-value"], method);
      assert.deepEqual(trailers?.get(ECHO_TRAILING), [Buffer.from([0, 1, 254, 255])], method);
    }
  });

  test("a FullDuplexCall the client cancels is observed as cancelled", async () => {
    const call = client.FullDuplexCall();
    const outcome = settle(call);
    call.write({ responseParameters: [{ size: 1 }] });
    await new Promise((resolve) => call.once("data", resolve));
    call.cancel();
    assert.equal((await outcome).error?.code, status.CANCELLED);
    await log.waitFor((o) => o.method === "FullDuplexCall" && o.event === "cancelled");
  });
});
