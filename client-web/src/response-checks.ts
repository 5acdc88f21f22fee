import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromHttpStatus, headerGrpcStatus } from "@connectrpc/connect/protocol-grpc";

/** The response headers a proxy must expose to cross-origin pages for the status to be readable. */
export const statusHeaderNames = ["grpc-status", "grpc-message", "grpc-status-details-bin"] as const;

type ResponseHead = Pick<Response, "status" | "headers" | "type">;

/**
 * Why the response cannot carry a gRPC-Web reply, judged from its head alone; undefined when it can.
 * A grpc-status header (a trailers-only response) always wins, as SPEC http-grpc-status-mapping says.
 */
export function responseHeadError(response: ResponseHead): ConnectError | undefined {
  if (response.headers.has(headerGrpcStatus)) return undefined;
  if (response.status < 200 || response.status > 299) {
    return new ConnectError(
      `HTTP ${response.status} without grpc-status`,
      codeFromHttpStatus(response.status),
    );
  }
  const contentType = response.headers.get("content-type") ?? "";
  if (!/^application\/grpc-web(\+proto)?\s*(;|$)/i.test(contentType)) {
    // Typically a dev server's HTML fallback page: baseUrl points at the web server, not the proxy.
    return new ConnectError(
      `HTTP ${response.status} with content-type "${contentType}", not application/grpc-web+proto: does baseUrl point at the gRPC-Web proxy?`,
      Code.Unknown,
    );
  }
  return undefined;
}

/**
 * The error for a 2xx response that ended without grpc-status in its headers or a trailer frame.
 * An empty cross-origin body is the classic symptom of a trailers-only response whose status header
 * CORS hid, so that case names the headers the proxy must expose.
 */
export function missingStatusError(response: ResponseHead, bodyWasEmpty: boolean): ConnectError {
  const problem = `HTTP ${response.status} response without grpc-status (neither a header nor a trailer frame)`;
  if (!(bodyWasEmpty && response.type === "cors")) return new ConnectError(problem, Code.Unknown);
  return new ConnectError(
    `${problem}. The response is cross-origin, so CORS probably hid the status header: the proxy must send ` +
      `Access-Control-Expose-Headers with ${statusHeaderNames.join(", ")} and any response metadata keys`,
    Code.Unknown,
  );
}
