import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { ConnectError } from "@connectrpc/connect";
import { protocolError } from "./envelope.js";
import { headerMessage, headerStatus } from "./headers.js";

/** The fields of a trailer frame's payload (HTTP/1-style "key: value" lines), appended to `trailer`. */
export function parseTrailer(data: Uint8Array, trailer = new Headers()): Headers {
  // protobuf-es's UTF-8 decoder, shared. A line's key is what comes before its first colon; append
  // trims the value.
  for (const [, key, value] of getTextEncoding()
    .decodeUtf8(data)
    .matchAll(/^([^:\r\n]+):(.*)/gm)) {
    trailer.append((key as string).trim(), value as string);
  }
  return trailer;
}

/**
 * Throws the call's error from the fields holding grpc-status, unless it is OK: the ConnectError the
 * server sent, its message percent-decoded (its details stay in grpc-status-details-bin: see
 * `errorDetails`). Its metadata is the response `headers` and, when the status came in a trailer
 * frame, the trailer's `fields` after them.
 */
export function checkStatus(fields: Headers, headers: Headers): void {
  const status = fields.get(headerStatus) ?? "";
  if (status === "0") return;
  if (!/^\d+$/.test(status)) throw protocolError(`grpc-status "${status}"`);
  let message = fields.get(headerMessage) ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // grpc-message is percent-encoded UTF-8; a malformed one is shown as it came.
  }
  throw new ConnectError(message, +status, fields === headers ? headers : [...headers, ...fields]);
}
