// Page script: calls the Greeter through the proxy with the official grpc-web runtime, the way
// protoc-gen-grpc-web's generated code would, with @bufbuild/protobuf doing the (de)serialising.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Greeter,
  type HelloReply,
  HelloReplySchema,
  type HelloRequest,
  HelloRequestSchema,
} from "@grpc-web-bridge/client-web/greeter";
import { GrpcWebClientBase, type Metadata, MethodDescriptor, MethodType, type RpcError } from "grpc-web";
import type { CallOutcome, CallRequest, GreeterMethod, PageGlobals } from "./page-api.js";

// The runtime keeps the message constructors for generated code's sake and never calls them: it
// only runs the descriptor's serialize and deserialize functions.
const unusedConstructor = Object as unknown as new () => never;

function descriptor(method: GreeterMethod): MethodDescriptor<HelloRequest, HelloReply> {
  return new MethodDescriptor(
    `/${Greeter.typeName}/${method}`,
    method === "SayHello" ? MethodType.UNARY : MethodType.SERVER_STREAMING,
    unusedConstructor,
    unusedConstructor,
    (request: HelloRequest) => toBinary(HelloRequestSchema, request),
    (bytes: Uint8Array) => fromBinary(HelloReplySchema, bytes),
  );
}

function call(request: CallRequest): Promise<CallOutcome> {
  const outcome: CallOutcome = { replies: [], headers: {}, trailers: {} };
  const client = new GrpcWebClientBase({ format: request.format });
  const method = descriptor(request.method);
  const url = `${request.proxyUrl}${method.getName()}`;
  const message = create(HelloRequestSchema, { name: request.name });
  const metadata: Metadata = { ...request.metadata };
  // The runtime turns a `deadline` (epoch ms) into grpc-timeout and an XHR timeout.
  if (request.timeoutMs !== undefined) metadata.deadline = String(Date.now() + request.timeoutMs);

  const received = (reply: HelloReply) =>
    outcome.replies.push({ message: reply.message, at: performance.now() });
  const failed = (error: RpcError) => {
    outcome.error = { code: error.code, message: error.message };
    outcome.trailers = { ...error.metadata };
  };
  return new Promise((resolve) => {
    const stream =
      request.method === "SayHello"
        ? client.rpcCall(url, message, metadata, method, (error, reply) => {
            if (error) failed(error);
            else received(reply);
            resolve(outcome);
          })
        : client
            .serverStreaming(url, message, metadata, method)
            .on("data", received)
            .on("error", (error) => {
              failed(error);
              resolve(outcome);
            })
            .on("end", () => resolve(outcome));
    stream
      .on("metadata", (headers) => (outcome.headers = { ...headers }))
      .on("status", (status) => {
        if (status.code === 0) outcome.trailers = { ...status.metadata };
      });
  });
}

const globals: PageGlobals = { interop: { call } };
Object.assign(globalThis, globals);
