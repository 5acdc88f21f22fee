export { buildAdminServer } from "./ops/admin.js";
export { drainAndClose } from "./ops/drain.js";
export type { LivenessReport, ReadinessReport, UpstreamHealth, UpstreamReadiness } from "./ops/health.js";
export { ProxyOps, type ProxyOpsOptions } from "./ops/ops.js";
export { requestIdFor } from "./ops/request-id.js";
export { Code, codeName, GrpcError } from "./protocol/status.js";
export { buildServer, type ServerOptions } from "./server/build.js";
export { DEFAULT_MAX_MESSAGE_BYTES, type GrpcWebProxyOptions } from "./server/options.js";
export { grpcWebProxy } from "./server/plugin.js";
