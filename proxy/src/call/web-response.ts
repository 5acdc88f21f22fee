import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { formatWebContentType, type WebContentType } from "../protocol/content-type.js";
import { encodeTrailerFrame } from "../protocol/frame.js";
import { encodeGrpcMessage, type GrpcError } from "../protocol/status.js";

export type Metadata = Array<[string, string]>;

/** The status keys a browser must be able to read from a Trailers-Only response. */
const STATUS_NAMES = ["grpc-status", "grpc-message", "grpc-status-details-bin"];
const STATUS_HEADERS = STATUS_NAMES.join(", ");
const REQUEST_ID = "x-request-id";

/**
 * The browser side of one call: gRPC-Web response headers, message frames
 * passed through as they arrive (base64 per chunk in text mode, padding and
 * all, so no byte is held back), and the trailers as one final trailer frame.
 */
export class WebResponse {
  readonly #res: ServerResponse;
  readonly #text: boolean;
  readonly #contentType: string;
  /** CORS headers for this request's origin; empty when it sent none. */
  readonly #cors: OutgoingHttpHeaders;
  /** The call's x-request-id, sent back (and exposed) with every answer. */
  readonly #requestId: string;
  #corked = false;

  constructor(res: ServerResponse, encoding: WebContentType, cors: OutgoingHttpHeaders, requestId: string) {
    this.#res = res;
    this.#text = encoding.text;
    this.#contentType = formatWebContentType(encoding);
    this.#cors = cors;
    this.#requestId = requestId;
  }

  /** Response headers of a call whose messages and trailers follow. */
  sendHeaders(metadata: Metadata): void {
    this.#res.writeHead(200, this.#headers(metadata));
  }

  /** One chunk of upstream DATA; false when the browser is not keeping up. */
  write(chunk: Buffer): boolean {
    if (!this.#corked) {
      // Batch the writes of one tick (the last message and the trailer frame of a
      // unary reply usually arrive together) into one packet.
      this.#corked = true;
      this.#res.cork();
      process.nextTick(uncork, this);
    }
    return this.#text ? this.#res.write(chunk.toString("base64")) : this.#res.write(chunk);
  }

  /** Ends the body with the trailers as a trailer frame. */
  finish(trailers: Metadata): void {
    const frame = encodeTrailerFrame(trailers);
    this.#res.end(this.#text ? frame.toString("base64") : frame);
  }

  /**
   * A Trailers-Only answer: the status in the headers and an empty body, never
   * also an empty trailer frame (clients would then see two statuses).
   */
  trailersOnly(metadata: Metadata, closeConnection = false): void {
    const headers = this.#headers(metadata);
    headers["content-length"] = 0;
    // HTTP/2 resets the stream by itself when the answer ends before the request; its connection carries other calls.
    if (closeConnection && this.#res.req.httpVersionMajor === 1) headers.connection = "close";
    this.#res.writeHead(200, headers).end();
  }

  /**
   * Ends the call with an error status: Trailers-Only while no headers went out,
   * else a trailer frame — unless the body stopped inside a message, where a
   * trailer frame would be read as message bytes, so the connection is cut.
   */
  fail(error: GrpcError, atFrameBoundary: boolean, closeConnection = false): void {
    const status: Metadata = [
      ["grpc-status", String(error.code)],
      ["grpc-message", encodeGrpcMessage(error.message)],
    ];
    if (!this.#res.headersSent) this.trailersOnly(status, closeConnection);
    else if (atFrameBoundary) this.finish(status);
    else this.#res.destroy();
  }

  uncork(): void {
    this.#corked = false;
    this.#res.uncork();
  }

  #headers(metadata: Metadata): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = { ...this.#cors, "content-type": this.#contentType };
    for (const [name, value] of metadata) headers[name] = value;
    // After the metadata: a backend echoing the id sends the same one, and the proxy's is the one it logged.
    headers[REQUEST_ID] = this.#requestId;
    // Only a cross-origin grant needs the list; same-origin pages and non-browser clients read every header.
    if (this.#cors["access-control-allow-origin"] !== undefined) {
      let exposed = `${STATUS_HEADERS}, ${REQUEST_ID}`;
      for (const [name] of metadata) {
        if (!STATUS_NAMES.includes(name) && name !== REQUEST_ID) exposed += `, ${name}`;
      }
      headers["access-control-expose-headers"] = exposed;
    }
    return headers;
  }
}

function uncork(response: WebResponse): void {
  response.uncork();
}
