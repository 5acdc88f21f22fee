export { createWebClient, type WebClient } from "./client.js";
export { codeName } from "./code-name.js";
export { readBinaryMetadata } from "./metadata.js";
export { backoffMs, type RetryOptions, retryInterceptor } from "./retry.js";
export { createGrpcWebTransport, type GrpcWebTransportOptions } from "./transport.js";
