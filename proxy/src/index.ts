export { Code, codeName, GrpcError } from "./protocol/status.js";
export { buildServer, type ServerOptions } from "./server/build.js";
export { DEFAULT_MAX_MESSAGE_BYTES, type GrpcWebProxyOptions } from "./server/options.js";
export { grpcWebProxy } from "./server/plugin.js";
