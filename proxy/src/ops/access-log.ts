import { type CallOutcome, describeCause } from "../call/outcome.js";
import { codeName } from "../protocol/status.js";
import type { CallTransport } from "../tracing/tracer.js";
import type { ServedRequest } from "./served-request.js";

/** A call as its access-log line names it. */
export interface LoggedCall {
  readonly requestId: string;
  /** `/package.Service/Method` */
  readonly path: string;
  /** The upstream's name; undefined when the proxy answered before choosing one. */
  readonly upstream: string | undefined;
  /** `performance.now()` when the call came in. */
  readonly startedAt: number;
  readonly transport: CallTransport;
}

/**
 * The one access-log line of a call, at info level through the request's logger.
 * It names the call and never carries message bodies or header values other
 * than the user agent, so no credential (authorization, cookies) can leak into
 * logs. The request id is logged as `reqId` when Fastify's request id is it
 * (`buildServer` makes it so), else as `requestId` too.
 */
export function logCall(request: ServedRequest, call: LoggedCall, result: CallOutcome): void {
  request.log.info(
    {
      requestId: call.requestId === request.id ? undefined : call.requestId,
      path: call.path,
      upstream: call.upstream,
      transport: call.transport,
      grpcCode: codeName(result.code),
      grpcStatus: result.code,
      cause: describeCause(result.cause),
      causeError: result.cause.kind === "interceptor" ? result.cause.error : undefined,
      durationMs: Math.round((performance.now() - call.startedAt) * 100) / 100,
      bytesIn: result.bytesIn,
      bytesOut: result.bytesOut,
      client: request.ip,
      userAgent: request.headers["user-agent"],
    },
    "call",
  );
}
