import { ConnectError } from "@connectrpc/connect";
import { protocolError } from "./envelope.js";
import { headerMessage, headerStatus } from "./headers.js";

/** The fields of a trailer frame's payload (HTTP/1-style "key: value" lines), appended to `trailer`. */
export function parseTrailer(data: Uint8Array, trailer = new Headers()): Headers {
  for (const line of new TextDecoder().decode(data).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailer.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return trailer;
}

/**
 * The call's outcome from the fields holding grpc-status: undefined for OK, else the ConnectError
 * the server sent, its message percent-decoded (its details stay in grpc-status-details-bin: see `errorDetails`). Its metadata is the response
 * `headers` and, when the status came in a trailer frame, the trailer's `fields`.
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
  const error = new ConnectError(message, +status, headers);
  if (fields !== headers) for (const [key, value] of fields) error.metadata.append(key, value);
  return error;
}
