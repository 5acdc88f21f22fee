import { BinaryReader, base64Decode } from "@bufbuild/protobuf/wire";
import { mapErrors } from "./map-errors.js";
import { headerStatusDetails } from "./protocol/headers.js";

/**
 * An interceptor (opt-in, for the transport's `interceptors`) that decodes an error's
 * grpc-status-details-bin, from its metadata, into its `details`, for `error.findDetails(Schema)`.
 * Details the server garbled leave the error as it was: they must not hide its status.
 */
export const errorDetails = mapErrors((error) => {
  const packed = error.metadata.get(headerStatusDetails);
  if (packed !== null && !error.details.length) {
    try {
      error.details = statusDetails(base64Decode(packed));
    } catch {
      // As documented: the status stands without details.
    }
  }
  return error;
});

/**
 * The `details` of a google.rpc.Status (field 3, each a google.protobuf.Any: type_url = 1, value = 2),
 * still packed, as ConnectError's `findDetails` takes them. Read by hand, so that the client carries
 * no Status or Any schema.
 */
export function statusDetails(status: Uint8Array): { type: string; value: Uint8Array }[] {
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
