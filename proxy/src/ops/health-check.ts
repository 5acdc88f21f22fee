import type { ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import { Code, decodeGrpcMessage, GrpcError } from "../protocol/status.js";
import { encodeGrpcTimeout } from "../protocol/timeout.js";
import type { Upstream } from "../upstream/upstream.js";
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  HEALTH_CHECK_PATH,
  type ServingStatus,
} from "./health-codec.js";

/**
 * Asks a backend's `grpc.health.v1.Health/Check` about `service` on the upstream's
 * own sessions, so the answer also proves the calls' path to the backend works.
 * Resolves to the serving status, or to the error that stood in the way.
 */
export function checkHealth(
  upstream: Upstream,
  service: string,
  timeoutMs: number,
): Promise<ServingStatus | GrpcError> {
  return new Promise((resolve) => {
    let stream: ClientHttp2Stream;
    try {
      stream = upstream.request({
        ":method": "POST",
        ":path": HEALTH_CHECK_PATH,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": encodeGrpcTimeout(timeoutMs),
        "grpc-accept-encoding": "identity",
      });
    } catch (error) {
      resolve(new GrpcError(Code.UNAVAILABLE, (error as Error).message));
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.cancel(stream);
    }, timeoutMs);
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const body: Buffer[] = [];
    stream.on("response", (h) => (headers = h));
    stream.on("data", (chunk: Buffer) => body.push(chunk));
    stream.on("trailers", (t) => (trailers = t));
    let failure: Error | undefined;
    stream.on("error", (error) => (failure = error));
    stream.on("close", () => {
      clearTimeout(timer);
      if (timedOut) resolve(new GrpcError(Code.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      else if (failure) resolve(new GrpcError(Code.UNAVAILABLE, failure.message));
      else resolve(healthCheckResult(trailers["grpc-status"] === undefined ? headers : trailers, body));
    });
    stream.end(encodeHealthCheckRequest(service));
  });
}

function healthCheckResult(status: IncomingHttpHeaders, body: Buffer[]): ServingStatus | GrpcError {
  const code = Number(status["grpc-status"] ?? Code.UNKNOWN);
  if (code !== Code.OK) {
    const message = status["grpc-message"];
    return new GrpcError(code, typeof message === "string" ? decodeGrpcMessage(message) : "no grpc-status");
  }
  return decodeHealthCheckResponse(Buffer.concat(body));
}
