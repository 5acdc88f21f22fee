import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { formatWebContentType, type WebContentType } from "../protocol/content-type.js";
import { encodeTrailerFrame } from "../protocol/frame.js";
import type { BrowserListener, BrowserSide, Metadata } from "./ports.js";
import type { CompressibleReply, ResponseCompression } from "./response-compression.js";

/** The status keys a browser must be able to read from a Trailers-Only response. */
const STATUS_NAMES = ["grpc-status", "grpc-message", "grpc-status-details-bin"];
const STATUS_HEADERS = STATUS_NAMES.join(", ");
const REQUEST_ID = "x-request-id";
/** The call a request and its response belong to, so that one set of listener functions serves every call. */
const LISTENER = Symbol("BrowserListener");

type Listened<T> = T & { [LISTENER]: BrowserListener };

/**
 * The browser side of one gRPC-Web call over HTTP/1.1 or HTTP/2: gRPC-Web response headers,
 * message frames passed through as the call hands them over (base64 per write in text mode, padding
 * and all, so no byte is held back), and the trailers as one final trailer frame.
 */
export class WebResponse implements BrowserSide {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #text: boolean;
  readonly #contentType: string;
  /** CORS headers for this request's origin; empty when it sent none. */
  readonly #cors: OutgoingHttpHeaders;
  /** The call's x-request-id, sent back (and exposed) with every answer. */
  readonly #requestId: string;
  /** With response compression on: the reply's body, which decides whether to compress it. */
  readonly #compressible: CompressibleReply | undefined;
  #corked = false;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    encoding: WebContentType,
    cors: OutgoingHttpHeaders,
    requestId: string,
    compression?: ResponseCompression,
  ) {
    this.#req = req;
    this.#res = res;
    this.#text = encoding.text;
    this.#contentType = formatWebContentType(encoding);
    this.#cors = cors;
    this.#requestId = requestId;
    this.#compressible = compression?.reply(res, req.headers["accept-encoding"]);
  }

  listen(listener: BrowserListener): void {
    const req = this.#req as Listened<IncomingMessage>;
    const res = this.#res as Listened<ServerResponse>;
    req[LISTENER] = listener;
    res[LISTENER] = listener;
    // `on` for 'close' and 'end' too, which come once: a `once` would cost every open call a wrapper and its state.
    res.on("close", onClose);
    // 'drain' follows only a write that returned false; the call ignores it unless it paused.
    res.on("drain", onDrain);
    req.on("data", onData);
    req.on("end", onEnd);
    this.#compressible?.onDrain(() => listener.browserDrained());
  }

  get headersSent(): boolean {
    return this.#compressible?.headersSent ?? this.#res.headersSent;
  }

  sendHeaders(metadata: Metadata): void {
    const headers = this.#headers(metadata);
    if (this.#compressible) this.#compressible.head(headers);
    else this.#res.writeHead(200, headers);
  }

  write(chunk: Buffer): boolean {
    const res = this.#res;
    if (!this.#corked) {
      // Batch the writes of one tick (the last message and the trailer frame of a
      // unary reply usually arrive together) into one packet.
      this.#corked = true;
      res.cork();
      process.nextTick(WebResponse.#uncork, this);
    }
    const wire = this.#text ? chunk.toString("base64") : chunk;
    return this.#compressible ? this.#compressible.write(chunk, wire) : res.write(wire);
  }

  writeParts(parts: readonly Buffer[]): boolean {
    // Text mode base64-pads each write, and compression decides from a first message header that the first
    // part may cut: both get the message joined, as before.
    if (this.#text || this.#compressible) return this.write(Buffer.concat(parts));
    // Corked by the first write: the parts leave in one writev, as the joined message would.
    let keepingUp = true;
    for (const part of parts) keepingUp = this.write(part);
    return keepingUp;
  }

  finish(trailers: Metadata): void {
    const frame = encodeTrailerFrame(trailers);
    const wire = this.#text ? frame.toString("base64") : frame;
    if (this.#compressible) {
      this.#compressible.end(wire);
      return;
    }
    // The messages of this tick and the trailer frame in one writev.
    const socket = this.#heldSocket();
    socket?.cork();
    this.#flush();
    this.#res.end(wire);
    socket?.uncork();
  }

  /** Also answers a call the proxy refuses before it begins. Never also an empty trailer frame: clients would see two statuses. */
  trailersOnly(metadata: Metadata, closeConnection: boolean): void {
    const headers = this.#headers(metadata);
    headers["content-length"] = 0;
    // HTTP/2 resets the stream by itself when the answer ends before the request; its connection carries other calls.
    if (closeConnection && this.#req.httpVersionMajor === 1) headers.connection = "close";
    this.#res.writeHead(200, headers).end();
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

  static #uncork(response: WebResponse): void {
    const socket = response.#heldSocket();
    socket?.cork();
    response.#flush();
    socket?.uncork();
  }

  /** Sends what this tick's writes held, unless the response was flushed already. */
  #flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#res.uncork();
  }

  /**
   * The HTTP/1.1 socket to keep corked over a flush. Node 22 gathers a corked chunked response's writes into one
   * chunk, but sends its pieces after uncorking the socket, a syscall each (the profile of a stream showed two
   * writes per message); Node 20 sends them in one writev as it is. HTTP/2 corks its stream, not a socket.
   */
  #heldSocket(): Socket | null {
    return this.#req.httpVersionMajor === 1 ? this.#res.socket : null;
  }
}

function onData(this: Listened<IncomingMessage>, chunk: Buffer): void {
  this[LISTENER].requestData(chunk);
}

function onEnd(this: Listened<IncomingMessage>): void {
  this[LISTENER].requestEnd();
}

function onClose(this: Listened<ServerResponse>): void {
  this[LISTENER].browserGone();
}

function onDrain(this: Listened<ServerResponse>): void {
  this[LISTENER].browserDrained();
}
