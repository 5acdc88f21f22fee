export type { Interceptor } from "@connectrpc/connect";
export { Code } from "@connectrpc/connect";
export { type CallOptions, type ClientOptions, createWebClient, type WebClient } from "./client.js";
export { codeName, type ErrorDetail, GrpcWebError, type GrpcWebErrorInit } from "./error.js";
export * from "./gen/helloworld/helloworld_pb.js";
export { createGreeterClient, type GreeterClient } from "./greeter.js";
export { type Metadata, readBinaryMetadata } from "./metadata.js";
export { backoffMs, type RetryOptions, retryInterceptor } from "./retry.js";
