import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ConnectError, decodeBinaryHeader } from "@connectrpc/connect";
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
 * the server sent, its message percent-decoded and its details unpacked. `metadata` is what the
 * error carries: the response headers and trailers.
 */
export function statusError(fields: Headers, metadata: Headers): ConnectError | undefined {
  const status = fields.get(headerStatus) ?? "";
  if (status === "0") return undefined;
  if (!/^\d+$/.test(status)) throw protocolError(`grpc-status "${status}"`);
  const error = new ConnectError(percentDecode(fields.get(headerMessage) ?? ""), +status, metadata);
  const details = fields.get(headerStatusDetails);
  try {
    if (details !== null) error.details = statusDetails(decodeBinaryHeader(details));
  } catch {
    // Details the server garbled must not hide its status.
  }
  return error;
}

// grpc-message is percent-encoded UTF-8; a malformed one is shown as it came.
function percentDecode(message: string): string {
  try {
    return decodeURIComponent(message);
  } catch {
    return message;
  }
}

/**
 * The `details` of a google.rpc.Status (field 3, each a google.protobuf.Any: type_url = 1, value = 2),
 * still packed, as ConnectError's `findDetails` takes them. Read by hand, so that the client carries
 * no Status or Any schema.
 */
function statusDetails(status: Uint8Array): { type: string; value: Uint8Array }[] {
  const details = [];
  for (const any of lengthDelimited(status, 3)) {
    const [typeUrl = new Uint8Array(0)] = lengthDelimited(any, 1);
    const [value = new Uint8Array(0)] = lengthDelimited(any, 2);
    const type = new TextDecoder().decode(typeUrl);
    details.push({ type: type.slice(type.lastIndexOf("/") + 1), value });
  }
  return details;
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
