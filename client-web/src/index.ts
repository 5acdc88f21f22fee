export { codeName } from "./code-name.js";
export type { Compression } from "./compression.js";
export { errorDetails } from "./error-details.js";
export { explainErrors } from "./explain-errors.js";
export { type GzipOptions, gzip, gzipCompression } from "./gzip.js";
export { readBinaryMetadata } from "./metadata.js";
export { backoffMs, type RetryOptions, retryInterceptor } from "./retry.js";
export { createGrpcWebTransport, type GrpcWebTransportOptions } from "./transport.js";
export { createWebClient, type WebClient } from "./web-client.js";
