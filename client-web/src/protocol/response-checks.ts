import { Code, ConnectError } from "@connectrpc/connect";
import { headerContentType, headerLocation, headerStatus } from "./headers.js";

type ResponseHead = Pick<Response, "status" | "headers" | "type">;

// The gRPC code of an HTTP status that came without grpc-status (grpc/grpc doc/http-grpc-status-mapping.md),
// as numbers: a bundle then carries no Code member names for them.
const codeOfHttpStatus: Record<number, Code> = {
  400: 13, // INTERNAL
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 12, // UNIMPLEMENTED
  429: 14, // UNAVAILABLE
  502: 14,
  503: 14,
  504: 14,
};

/**
 * Why the response cannot carry a gRPC-Web reply, judged from its head alone; undefined when it can.
 * A grpc-status header (a trailers-only response) always wins, as http-grpc-status-mapping says.
 * Anything else names what answered: most often an HTML page, from a gateway in front of a proxy
 * that is down (a 502), or from a web server that baseUrl points at by mistake. A redirect is not
 * followed (fetch would turn a 301 or 302 into a GET without the request), so it is named too,
 * with where it led when the browser shows that.
 */
export function responseHeadError({ status, headers, type }: ResponseHead): ConnectError | undefined {
  const contentType = headers.get(headerContentType) ?? "";
  if (
    headers.has(headerStatus) ||
    (status === 200 && /^application\/grpc-web(\+proto)?($|;)/i.test(contentType))
  ) {
    return undefined;
  }
  const location = headers.get(headerLocation);
  const instead =
    type === "opaqueredirect" || (status > 299 && status < 400)
      ? `a redirect${location ? ` to ${location}` : ""}, not followed`
      : /html/i.test(contentType) && "an HTML page";
  return new ConnectError(
    `HTTP ${status} ${contentType}: not gRPC-Web${instead ? ` but ${instead}: is the proxy up, and baseUrl its URL?` : ""}`,
    codeOfHttpStatus[status] ?? Code.Unknown,
    headers,
  );
}

/**
 * The error for a response that ended without grpc-status in its headers or a trailer frame. An
 * empty cross-origin body is the classic symptom of a trailers-only response whose status header
 * CORS hid, so that case names the headers the proxy must expose.
 */
export function missingStatusError(
  { status, headers, type }: ResponseHead,
  bodyWasEmpty: boolean,
): ConnectError {
  return new ConnectError(
    `HTTP ${status} without grpc-status${
      bodyWasEmpty && type === "cors"
        ? ": hidden by CORS? The proxy must list grpc-status, grpc-message, grpc-status-details-bin in Access-Control-Expose-Headers"
        : ""
    }`,
    Code.Unknown,
    headers,
  );
}
