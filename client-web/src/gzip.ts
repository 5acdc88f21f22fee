import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "./compression.js";
import { compressedFlag, frameParts, protocolError } from "./protocol/envelope.js";
import { headerAcceptEncoding, headerEncoding } from "./protocol/headers.js";

export interface GzipOptions {
  /** Request messages smaller than this go out uncompressed: compressing them would not pay. Default 1024 bytes, as in connect. */
  minBytes?: number;
  /**
   * The most bytes a reply may decompress to, so that a small compressed message cannot fill the tab's
   * memory: past it the call ends RESOURCE_EXHAUSTED. Default 4 MiB, gRPC's default receive limit.
   */
  maxDecompressedBytes?: number;
}

const name = "gzip";

/** gzip with the platform's own CompressionStream and DecompressionStream: no compression code in the bundle. */
export function gzipCompression({
  minBytes = 1024,
  maxDecompressedBytes = 4 * 1024 * 1024,
}: GzipOptions = {}): Compression {
  return {
    name,
    async frame(payload, header) {
      header.set(headerAcceptEncoding, name);
      if (payload.length < minBytes) return frameParts(payload);
      header.set(headerEncoding, name);
      const compressed = streamOf(payload).pipeThrough(new CompressionStream(name));
      return frameParts(new Uint8Array(await new Response(compressed).arrayBuffer()), compressedFlag);
    },
    async decompress(data, responseHeaders) {
      const encoding = responseHeaders.get(headerEncoding);
      if (encoding !== name)
        throw protocolError(`a frame compressed with ${encoding}, though the call offered ${name}`);
      const reader = streamOf(data).pipeThrough(new DecompressionStream(name)).getReader();
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      let size = 0;
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array<ArrayBuffer>>;
        try {
          chunk = await reader.read();
        } catch (cause) {
          throw new ConnectError(
            `a reply that is not valid gzip: ${cause}`,
            Code.Internal,
            undefined,
            undefined,
            cause,
          );
        }
        if (chunk.done) return new Uint8Array(await new Blob(chunks).arrayBuffer());
        size += chunk.value.length;
        if (size > maxDecompressedBytes) {
          void reader.cancel();
          throw new ConnectError(
            `a reply larger than ${maxDecompressedBytes} bytes once decompressed`,
            Code.ResourceExhausted,
          );
        }
        chunks.push(chunk.value);
      }
    },
  };
}

/** gzip with the default threshold and cap: `compression: gzip`. */
export const gzip: Compression = /* @__PURE__ */ gzipCompression();

function streamOf(data: Uint8Array): ReadableStream<Uint8Array<ArrayBuffer>> {
  return new Blob([data as Uint8Array<ArrayBuffer>]).stream();
}
