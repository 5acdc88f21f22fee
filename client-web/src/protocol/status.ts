import { ConnectError } from "@connectrpc/connect";
import { protocolError } from "./envelope.js";
import { headerMessage, headerStatus } from "./headers.js";

/** The fields of a trailer frame's payload (HTTP/1-style "key: value" lines), appended to `trailer`. */
export function parseTrailer(data: Uint8Array, trailer = new Headers()): Headers {
  // A line's key is what comes before its first colon; append trims the value.
  for (const [, key, value] of new TextDecoder().decode(data).matchAll(/^([^:\r\n]+):(.*)/gm)) {
    trailer.append((key as string).trim(), value as string);
  }
  return trailer;
}

/**
 * The call's outcome from the fields holding grpc-status: undefined for OK, else the ConnectError
 * the server sent, its message percent-decoded (its details stay in grpc-status-details-bin: see
 * `errorDetails`). Its metadata is the response `headers` and, when the status came in a trailer
 * frame, the trailer's `fields` after them.
 */
export function statusError(fields: Headers, headers: Headers): ConnectError | undefined {
  const status = fields.get(headerStatus) ?? "";
  if (status === "0") return undefined;
  if (!/^\d+$/.test(status)) throw protocolError(`grpc-status "${status}"`);
  let message = fields.get(headerMessage) ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // grpc-message is percent-encoded UTF-8; a malformed one is shown as it came.
  }
  return new ConnectError(message, +status, fields === headers ? headers : [...headers, ...fields]);
}
