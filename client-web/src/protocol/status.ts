import { BinaryReader, base64Decode } from "@bufbuild/protobuf/wire";
import { ConnectError } from "@connectrpc/connect";
import { protocolError } from "./envelope.js";
import { headerMessage, headerStatus, headerStatusDetails } from "./headers.js";

/** The fields of a trailer frame's payload: HTTP/1-style "key: value" lines. */
export function parseTrailer(data: Uint8Array): Headers {
  const trailer = new Headers();
  for (const line of new TextDecoder().decode(data).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailer.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return trailer;
}

/**
 * The call's outcome from the fields holding grpc-status: undefined for OK, else the ConnectError
 * the server sent, its message percent-decoded and its details unpacked. Its metadata is the response
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
  try {
    error.details = statusDetails(base64Decode(fields.get(headerStatusDetails) ?? ""));
  } catch {
    // Details the server garbled must not hide its status.
  }
  return error;
}

/**
 * The `details` of a google.rpc.Status (field 3, each a google.protobuf.Any: type_url = 1, value = 2),
 * still packed, as ConnectError's `findDetails` takes them. Read by hand, so that the client carries
 * no Status or Any schema.
 */
function statusDetails(status: Uint8Array): { type: string; value: Uint8Array }[] {
  return lengthDelimited(status, 3).map((any) => {
    const type = new TextDecoder().decode(lengthDelimited(any, 1)[0]);
    return {
      type: type.slice(type.lastIndexOf("/") + 1),
      value: lengthDelimited(any, 2)[0] ?? new Uint8Array(0),
    };
  });
}

/** The values of one length-delimited field of a message, in order; other fields are skipped. */
function lengthDelimited(message: Uint8Array, field: number): Uint8Array[] {
  const reader = new BinaryReader(message);
  const values = [];
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === field) values.push(reader.bytes());
    else reader.skip(wireType);
  }
  return values;
}
