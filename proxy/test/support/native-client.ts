// A native gRPC client (grpc-js, the same hand-made definitions) to check the backends without the proxy.
import { create } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type StatusObject } from "@grpc/grpc-js";
import { type HelloReply, HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { greeterDefinition } from "./greeter-definition.js";

export interface NativeCallOptions {
  /** Request metadata; Buffer values for `-bin` keys. */
  metadata?: Record<string, string | Buffer>;
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface NativeResult {
  /** Response headers (grpc-js reports a Trailers-Only response as empty headers). */
  headers: Metadata;
  replies: Array<{ message: string; at: number /* ms since the call started */ }>;
  /** Code, details and trailers. */
  status: StatusObject;
}

export interface NativeClient {
  /**
   * Calls SayHello or SayHelloStreamReply. Both go through grpc-js's server-streaming API: on the wire
   * a unary call is a stream of one message, so one code path sees headers, messages and trailers alike.
   */
  call(
    method: "SayHello" | "SayHelloStreamReply",
    name: string,
    options?: NativeCallOptions,
  ): Promise<NativeResult>;
  /** SayHelloBidiStream with these names, then half-close. */
  bidi(names: readonly string[], options?: NativeCallOptions): Promise<NativeResult>;
  close(): void;
}

export function createNativeClient(url: string): NativeClient {
  const client = new Client(new URL(url).host, credentials.createInsecure(), {
    "grpc.max_receive_message_length": -1,
  });
  return {
    call(method, name, options = {}) {
      const { path, requestSerialize, responseDeserialize } = greeterDefinition[method];
      const request = create(HelloRequestSchema, { name });
      return collect(options, (metadata, callOptions) =>
        client.makeServerStreamRequest(
          path,
          requestSerialize,
          responseDeserialize,
          request,
          metadata,
          callOptions,
        ),
      );
    },
    bidi(names, options = {}) {
      const { path, requestSerialize, responseDeserialize } = greeterDefinition.SayHelloBidiStream;
      return collect(options, (metadata, callOptions) => {
        const call = client.makeBidiStreamRequest(
          path,
          requestSerialize,
          responseDeserialize,
          metadata,
          callOptions,
        );
        for (const name of names) call.write(create(HelloRequestSchema, { name }));
        call.end();
        return call;
      });
    },
    close: () => client.close(),
  };
}

interface ResponseStream {
  on(event: "metadata", listener: (headers: Metadata) => void): this;
  on(event: "data", listener: (reply: HelloReply) => void): this;
  on(event: "status", listener: (status: StatusObject) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  cancel(): void;
}

function collect(
  options: NativeCallOptions,
  start: (metadata: Metadata, callOptions: { deadline?: number }) => ResponseStream,
): Promise<NativeResult> {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const startedAt = performance.now();
  const call = start(
    metadata,
    options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs },
  );
  options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
  const result: Omit<NativeResult, "status"> = { headers: new Metadata(), replies: [] };
  return new Promise((resolve) => {
    call.on("metadata", (headers) => {
      result.headers = headers;
    });
    call.on("data", (reply) =>
      result.replies.push({ message: reply.message, at: performance.now() - startedAt }),
    );
    // A failed call emits "error" and then "status"; the status carries everything.
    call.on("error", () => {});
    call.on("status", (status) => resolve({ ...result, status }));
  });
}
