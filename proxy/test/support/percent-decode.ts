/**
 * Decodes `%XX` escapes as UTF-8, the way grpc-message is encoded. Lenient, as the gRPC spec asks of
 * decoders: a `%` that starts no valid escape stays as it is instead of failing the whole message.
 */
export function percentDecode(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const hex = encoded.slice(i + 1, i + 3);
    if (encoded[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(encoded[i] as string));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}
