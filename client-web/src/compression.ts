/**
 * A message compression the transport can use (`gzip`, say). The transport hands it each request
 * message to frame, and each reply frame flagged compressed to decompress.
 */
export interface Compression {
  /** Its grpc-encoding name. A WebSocket call announces it in its first message, before any request is framed. */
  readonly name: string;
  /**
   * The frame of one request message, compressed if it is worth it. Sets the request's grpc-encoding
   * when it compresses, and always offers the encoding for replies in grpc-accept-encoding.
   */
  frame(payload: Uint8Array<ArrayBuffer>, header: Headers): Promise<Uint8Array<ArrayBuffer>[]>;
  /**
   * A compressed reply message, decompressed: INTERNAL when the response's grpc-encoding is not this
   * one or the data is not valid in it, RESOURCE_EXHAUSTED past the size cap.
   */
  decompress(data: Uint8Array, responseHeaders: Headers): Promise<Uint8Array>;
}
