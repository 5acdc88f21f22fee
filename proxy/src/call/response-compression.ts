import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import { type BrotliCompress, constants, createBrotliCompress, createGzip, type Gzip } from "node:zlib";
import negotiate from "@fastify/accept-negotiator";
import { FRAME_HEADER_BYTES, FrameBoundaryTracker } from "../protocol/frame.js";

/** The values of the `responseCompression` setting: HTTP compression of gRPC-Web response bodies. */
export const RESPONSE_COMPRESSIONS = ["off", "gzip", "br"] as const;
export type ResponseCompressionSetting = (typeof RESPONSE_COMPRESSIONS)[number];
/** An HTTP content coding the proxy writes. */
export type ContentCoding = "gzip" | "br";

/**
 * A reply whose first message (with its 5-byte frame header) is smaller than this goes out as it is. A constant,
 * not a setting: below about one TCP segment (1460 bytes of payload) compression saves no packet and no round
 * trip, and costs CPU, a gzip header and trailer, and a threadpool hop; that does not depend on the deployment.
 */
export const MIN_COMPRESSED_REPLY_BYTES = 1024;

/** zlib's defaults (level 6, 32 KiB window): about 256 KiB of deflate state per compressed reply. */
const GZIP_OPTIONS = { level: constants.Z_DEFAULT_COMPRESSION };
/**
 * Brotli's default quality (11) is for static files and costs ten times the CPU of gzip; 5 compresses better than
 * gzip at about its speed. A 256 KiB window (lgwin 18) instead of 4 MiB bounds the memory each reply holds.
 */
const BROTLI_OPTIONS = {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 5,
    [constants.BROTLI_PARAM_LGWIN]: 18,
  },
};

const VARY = "Accept-Encoding";

/**
 * The setting, once for the plugin: which codings the proxy offers, best first. `br` offers brotli and falls
 * back to gzip, because browsers advertise br only over HTTPS.
 */
export class ResponseCompression {
  readonly #offered: ContentCoding[];

  private constructor(offered: ContentCoding[]) {
    this.#offered = offered;
  }

  /** undefined when the setting is off: responses are then written as before, without Vary. */
  static of(setting: ResponseCompressionSetting): ResponseCompression | undefined {
    if (setting === "off") return undefined;
    return new ResponseCompression(setting === "br" ? ["br", "gzip"] : ["gzip"]);
  }

  /** The coding a browser's Accept-Encoding allows, q-values honoured; undefined for none. */
  codingFor(acceptEncoding: string | undefined): ContentCoding | undefined {
    if (acceptEncoding === undefined) return undefined;
    return negotiate(acceptEncoding, this.#offered) ?? undefined;
  }

  /** The body of one reply, which `acceptEncoding` may let the proxy compress. */
  reply(res: ServerResponse, acceptEncoding: string | undefined): CompressibleReply {
    return new CompressibleReply(res, this.codingFor(acceptEncoding));
  }
}

/** Where a compressible reply's body is. */
type ReplyBody =
  /** No headers yet. */
  | { readonly kind: "idle" }
  /** Headers held until the first message's size decides whether to compress. */
  | { readonly kind: "held"; readonly headers: OutgoingHttpHeaders }
  /** Headers sent; the bytes go out as they are. */
  | { readonly kind: "plain" }
  /** Headers sent with Content-Encoding; the bytes go through the compressor. */
  | {
      readonly kind: "compressed";
      readonly compressor: Gzip | BrotliCompress;
      readonly tracker: FrameBoundaryTracker;
    };

/**
 * The response body of one call with response compression on, after Envoy's compressor filter: every reply with
 * a body gets `Vary: Accept-Encoding`; when the browser accepts a coding and the first message is at least
 * MIN_COMPRESSED_REPLY_BYTES, the headers get `Content-Encoding` and the whole body (messages and trailer frame,
 * base64 text in text mode) is one compressed stream, flushed each time a message is complete so that no message
 * of a server stream waits for the next. Nothing is buffered but the headers: they wait for the first bytes, as
 * Node's HTTP/1.1 server makes them wait anyway.
 */
export class CompressibleReply {
  readonly #res: ServerResponse;
  readonly #coding: ContentCoding | undefined;
  #body: ReplyBody = { kind: "idle" };
  #drained: (() => void) | undefined;
  #flushQueued = false;

  constructor(res: ServerResponse, coding: ContentCoding | undefined) {
    this.#res = res;
    this.#coding = coding;
  }

  /** Called when the compressor takes bytes again after `write` returned false. */
  onDrain(drained: () => void): void {
    this.#drained = drained;
  }

  get headersSent(): boolean {
    return this.#body.kind !== "idle";
  }

  head(headers: OutgoingHttpHeaders): void {
    headers.vary = headers.vary === undefined ? VARY : `${headers.vary}, ${VARY}`;
    if (this.#coding === undefined) {
      this.#res.writeHead(200, headers);
      this.#body = { kind: "plain" };
    } else {
      this.#body = { kind: "held", headers };
    }
  }

  /** `raw`: the response bytes as the backend sent them, for frame boundaries; `wire`: what the browser gets. */
  write(raw: Buffer, wire: Buffer | string): boolean {
    let body = this.#body;
    if (body.kind === "held") body = this.#start(body.headers, firstMessageBytes(raw));
    if (body.kind === "plain") return this.#res.write(wire);
    if (body.kind !== "compressed") return true;
    body.tracker.push(raw);
    const more = body.compressor.write(wire);
    if (body.tracker.atBoundary && !this.#flushQueued) {
      // At the end of the tick, so that the message and the trailer frame of a unary reply that arrive
      // together are compressed together.
      this.#flushQueued = true;
      process.nextTick(CompressibleReply.#flush, this);
    }
    return more;
  }

  /** The last bytes: the trailer frame. */
  end(wire: Buffer | string): void {
    const body = this.#body.kind === "held" ? this.#start(this.#body.headers, 0) : this.#body;
    if (body.kind === "compressed") body.compressor.end(wire);
    else this.#res.end(wire);
  }

  #start(headers: OutgoingHttpHeaders, firstBytes: number): ReplyBody {
    const coding = this.#coding;
    if (coding === undefined || firstBytes < MIN_COMPRESSED_REPLY_BYTES) {
      this.#res.writeHead(200, headers);
      this.#body = { kind: "plain" };
      return this.#body;
    }
    headers["content-encoding"] = coding;
    this.#res.writeHead(200, headers);
    const compressor = coding === "gzip" ? createGzip(GZIP_OPTIONS) : createBrotliCompress(BROTLI_OPTIONS);
    compressor.on("drain", () => this.#drained?.());
    // Ends the response after the compressor's last bytes, and destroys the compressor (its native memory
    // with it) when the browser goes away; the call hears of that from the response's own close event.
    pipeline(compressor, this.#res, ignore);
    this.#body = { kind: "compressed", compressor, tracker: new FrameBoundaryTracker() };
    return this.#body;
  }

  static #flush(reply: CompressibleReply): void {
    reply.#flushQueued = false;
    const body = reply.#body;
    if (body.kind !== "compressed" || body.compressor.writableEnded || body.compressor.destroyed) return;
    // Z_SYNC_FLUSH (BROTLI_OPERATION_FLUSH) emits every byte so far and keeps the dictionary for the next message.
    body.compressor.flush(reply.#coding === "br" ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH);
  }
}

/** The first frame's size, header and payload, when its header is in `chunk`; else what `chunk` holds. */
function firstMessageBytes(chunk: Buffer): number {
  return chunk.length < FRAME_HEADER_BYTES ? chunk.length : FRAME_HEADER_BYTES + chunk.readUInt32BE(1);
}

/** The call learns of a broken response from the response's close event, not from the pipeline. */
function ignore(): void {}
