import { Code, ConnectError } from "@connectrpc/connect";
import { mapErrors } from "./map-errors.js";
import { headerContentType, headerLocation } from "./protocol/headers.js";
import { isGrpcWebHead } from "./protocol/response-checks.js";

/**
 * An interceptor (opt-in, for the transport's `interceptors`) whose errors say what answered instead of
 * a gRPC-Web reply, and what to check. A fetch that failed is most often the network or a CORS refusal.
 * An HTML page most often comes from a gateway in front of a proxy that is down (a 502), or from a web
 * server that baseUrl points at by mistake. A redirect is not followed (fetch would turn a 301 or 302
 * into a GET without the request), so it is named, with where it led when the browser shows that. A
 * cross-origin response without grpc-status most often had it in headers that CORS hid. Code, metadata
 * and cause stay as they were.
 */
export const explainErrors = mapErrors((error) => {
  const { cause } = error;
  if (cause instanceof Response) return explainResponse(error, cause);
  // The transport's one error caused by a TypeError: fetch rejected, no response came.
  if (error.code === Code.Unavailable && cause instanceof TypeError) {
    return reworded(
      error,
      "no response: the network failed, or CORS refused the call (does the proxy allow this origin?)",
    );
  }
  return error;
});

function explainResponse(error: ConnectError, response: Response): ConnectError {
  const { status, headers, type } = response;
  if (isGrpcWebHead(response)) {
    return type === "cors"
      ? reworded(
          error,
          `${error.rawMessage}: hidden by CORS? The proxy must list grpc-status, grpc-message, grpc-status-details-bin in Access-Control-Expose-Headers`,
        )
      : error;
  }
  const location = headers.get(headerLocation);
  const instead =
    type === "opaqueredirect" || (status > 299 && status < 400)
      ? `a redirect${location ? ` to ${location}` : ""}, not followed`
      : /html/i.test(headers.get(headerContentType) ?? "") && "an HTML page";
  return instead
    ? reworded(error, `${error.rawMessage} but ${instead}: is the proxy up, and baseUrl its URL?`)
    : error;
}

function reworded(error: ConnectError, message: string): ConnectError {
  const explained = new ConnectError(message, error.code, error.metadata, undefined, error.cause);
  explained.details = error.details;
  return explained;
}
