import { BinaryWriter } from "@bufbuild/protobuf/wire";

/**
 * A google.rpc.Status as grpc-status-details-bin carries it, written field by field (code = 1,
 * message = 2, details = 3, each a google.protobuf.Any: type_url = 1, value = 2).
 */
export function statusBytes(
  code: number,
  message: string,
  details: { typeUrl: string; value: Uint8Array }[],
): Uint8Array {
  const writer = new BinaryWriter().uint32((1 << 3) | 0).int32(code);
  writer.uint32((2 << 3) | 2).string(message);
  for (const { typeUrl, value } of details) {
    const any = new BinaryWriter().uint32((1 << 3) | 2).string(typeUrl);
    writer.uint32((3 << 3) | 2).bytes(
      any
        .uint32((2 << 3) | 2)
        .bytes(value)
        .finish(),
    );
  }
  return writer.finish();
}
