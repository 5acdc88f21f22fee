// HTTP/1.1 over a bare TCP socket, for requests no HTTP client would send (smuggling shapes, bare LF, NUL bytes)
// and for seeing exactly what comes back on the same connection, and whether the server closes it.
import net from "node:net";
import { Base64Quanta, WebBodyParser } from "./grpc-web-body.js";
import { grpcStatusOf } from "./grpc-web-client.js";

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** grpc-status from the headers (Trailers-Only) or from the body's trailer frame. */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string | undefined;
  /** Messages in a gRPC-Web body (binary or text). */
  readonly messages: readonly Buffer[];
}

const HEAD_END = "\r\n\r\n";

/** One client connection. Responses are read in order; bytes past one response stay for the next. */
export class RawHttpConnection {
  readonly #socket: net.Socket;
  #buffered = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      this.#wake?.();
    });
    // A server that resets instead of closing is still a close for the tests.
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.#ended = true;
        this.#wake?.();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.off("error", reject);
        resolve(new RawHttpConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  /** Writes the bytes as they are; never half-closes (Node's server takes a half-close as the client leaving). */
  send(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  /**
   * The next final response (1xx skipped), or undefined when the server closed the connection without one.
   * `head`: the request was a HEAD, so the response has no body whatever its headers say.
   */
  readResponse(head = false, timeoutMs = 5000): Promise<RawResponse | undefined> {
    return this.#until(() => this.#parse(head), timeoutMs);
  }

  /** Resolves true once the bytes received (and not yet read as a response) satisfy `enough`; false on close. */
  async waitForBytes(enough: (received: Buffer) => boolean, timeoutMs = 5000): Promise<boolean> {
    return (await this.#until(() => (enough(this.#buffered) ? true : undefined), timeoutMs)) ?? false;
  }

  /** The first value `probe` gives as bytes arrive; undefined once the connection is closed without one. */
  async #until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (this.#ended) return undefined;
      if (Date.now() > deadline) throw new Error(`nothing came within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** True once the server has closed the connection, waiting up to `timeoutMs` for it. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    if (this.#ended) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, false);
    });
    const closed = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** A whole response off the front of the buffer, or undefined while it is still incomplete. */
  #parse(head: boolean): RawResponse | undefined {
    for (;;) {
      const headEnd = this.#buffered.indexOf(HEAD_END);
      if (headEnd < 0) return undefined;
      const [statusLine = "", ...lines] = this.#buffered
        .subarray(0, headEnd)
        .toString("latin1")
        .split("\r\n");
      const status = Number(statusLine.split(" ")[1]);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      }
      const bodyStart = headEnd + HEAD_END.length;
      if (status >= 100 && status < 200) {
        this.#buffered = this.#buffered.subarray(bodyStart);
        continue;
      }
      const framed =
        head || status === 204 || status === 304
          ? { body: Buffer.alloc(0), end: bodyStart }
          : bodyOf(this.#buffered, bodyStart, headers, this.#ended);
      if (framed === undefined) return undefined;
      this.#buffered = this.#buffered.subarray(framed.end);
      return grpcWebResponse(status, headers, framed.body);
    }
  }
}

/** The body that starts at `start`, by chunked coding, content-length or the end of the connection. */
function bodyOf(
  buffered: Buffer,
  start: number,
  headers: Record<string, string>,
  ended: boolean,
): { body: Buffer; end: number } | undefined {
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") return chunkedBody(buffered, start);
  const length = headers["content-length"];
  if (length !== undefined) {
    const end = start + Number(length);
    return buffered.length < end ? undefined : { body: buffered.subarray(start, end), end };
  }
  return ended ? { body: buffered.subarray(start), end: buffered.length } : undefined;
}

function chunkedBody(buffered: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const chunks: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffered.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffered.subarray(at, lineEnd).toString("latin1"), 16);
    at = lineEnd + 2;
    if (size === 0) {
      // No trailer fields: the proxy never sends HTTP trailers.
      const end = buffered.indexOf("\r\n", at);
      return end < 0 ? undefined : { body: Buffer.concat(chunks), end: end + 2 };
    }
    if (buffered.length < at + size + 2) return undefined;
    chunks.push(buffered.subarray(at, at + size));
    at += size + 2;
  }
}

function grpcWebResponse(status: number, headers: Record<string, string>, body: Buffer): RawResponse {
  const contentType = headers["content-type"] ?? "";
  const frames = new WebBodyParser();
  if (contentType.startsWith("application/grpc-web-text")) {
    frames.push(new Base64Quanta().push(body.toString("latin1")), 0);
  } else if (contentType.startsWith("application/grpc-web")) {
    frames.push(body, 0);
  }
  const malformed = frames.end();
  if (malformed) throw new Error(`HTTP ${status}: malformed gRPC-Web response body: ${malformed}`);
  return {
    status,
    headers,
    body,
    ...grpcStatusOf(headers, frames.trailers),
    messages: frames.messages.map((m) => m.data),
  };
}
