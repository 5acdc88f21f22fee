// A raw grpc-websockets client for tests: sends exactly the bytes a test asks for (good or bad), and reads the
// server's messages strictly, as improbable's client would see them, with nothing of the proxy's code in it.
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";

/** The server side of a call as it reached the client. */
export interface WebSocketCallResult {
  /** The first 0x80 frame's fields; undefined when none came. */
  headers: Record<string, string> | undefined;
  /** The payloads of the message frames, in order. */
  messages: Buffer[];
  /** The second 0x80 frame's fields; undefined when none came. */
  trailers: Record<string, string> | undefined;
  /** 1005 when the close frame had no code, 1006 when the connection ended without one. */
  closeCode: number;
  closeReason: string;
  /** Bytes after the last whole frame: a response cut inside a frame. */
  leftover: number;
  /** Every server message, raw, in order. */
  raw: Buffer[];
}

/** An open call: send anything, then await `result` (settles when the socket closes). */
export interface WebSocketCall {
  readonly socket: WebSocket;
  readonly protocol: string;
  /** The first message, `name: value\r\n` per entry as improbable's client writes it. */
  sendMetadata(metadata: Record<string, string>): void;
  /** A data message holding one frame of `message`. */
  sendMessage(message: Uint8Array, flags?: number): void;
  /** The finished-sending message. */
  finish(): void;
  /** Any message, as is: a string goes as a text message. */
  sendRaw(data: Buffer | string): void;
  readonly result: Promise<WebSocketCallResult>;
}

/** A refused upgrade: the HTTP answer the server gave instead of switching protocols. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with HTTP ${status}: ${body}`);
  }
}

export interface WebSocketCallOptions {
  /** Sent as the upgrade's Origin, as a browser would. Default: none (not a browser). */
  readonly origin?: string;
  /** Default: ["grpc-websockets"]. */
  readonly protocols?: readonly string[];
  /** More upgrade request headers (a browser would send cookies, for one). */
  readonly headers?: Record<string, string>;
  /** Answer the server's pings, as browsers do; default true. False plays a peer that has gone silent. */
  readonly autoPong?: boolean;
  /** The CA a wss:// server's certificate must chain to. */
  readonly ca?: Buffer;
}

/** Opens a WebSocket to `url` (ws:// or http://, the method's path included); rejects with UpgradeRefused. */
export async function openWebSocketCall(
  url: string,
  options: WebSocketCallOptions = {},
): Promise<WebSocketCall> {
  const socket = new WebSocket(url.replace(/^http/, "ws"), [...(options.protocols ?? ["grpc-websockets"])], {
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    headers: options.headers,
    perMessageDeflate: false,
    autoPong: options.autoPong ?? true,
    ...(options.ca && { ca: options.ca }),
  });
  const raw: Buffer[] = [];
  socket.on("message", (data: Buffer) => raw.push(Buffer.from(data)));
  const closed = once(socket, "close") as Promise<[number, Buffer]>;
  const refused = new Promise<never>((_, reject) => {
    socket.once("unexpected-response", (_request, response: IncomingMessage) => {
      const body: Buffer[] = [];
      response.on("data", (chunk: Buffer) => body.push(chunk));
      response.on("end", () => {
        reject(new UpgradeRefused(response.statusCode ?? 0, Buffer.concat(body).toString()));
        // There is no call to close: `terminate` reports the socket closed before it opened, which is expected.
        closed.catch(() => {});
        socket.terminate();
      });
    });
  });
  await Promise.race([once(socket, "open"), refused]);
  const send = (data: Buffer | string) => socket.send(data, { binary: typeof data !== "string" });
  return {
    socket,
    protocol: socket.protocol,
    sendMetadata: (metadata) =>
      send(
        Buffer.from(
          Object.entries(metadata)
            .map(([name, value]) => `${name}: ${value}\r\n`)
            .join(""),
          "latin1",
        ),
      ),
    sendMessage: (message, flags = 0) => {
      const data = Buffer.alloc(6 + message.length);
      data[1] = flags;
      data.writeUInt32BE(message.length, 2);
      data.set(message, 6);
      send(data);
    },
    finish: () => send(Buffer.from([1])),
    sendRaw: send,
    result: closed.then(([code, reason]) => ({
      ...readServerMessages(raw),
      closeCode: code,
      closeReason: reason.toString(),
      raw,
    })),
  };
}

/**
 * The server's messages as improbable's client reads them: the first 0x80 frame is the headers, message frames
 * follow, the second 0x80 frame is the trailers. Stricter than that client where it would go wrong silently: a
 * message frame before the headers or after the trailers, a third 0x80 frame, bytes after a 0x80 frame in the same
 * WebSocket message (that client reads them only when another message comes) all throw.
 */
export function readServerMessages(messages: readonly Buffer[]) {
  let headers: Record<string, string> | undefined;
  let trailers: Record<string, string> | undefined;
  const replies: Buffer[] = [];
  let buffered = Buffer.alloc(0);
  for (const [index, message] of messages.entries()) {
    buffered = Buffer.concat([buffered, message]);
    while (buffered.length >= 5 && buffered.length >= 5 + buffered.readUInt32BE(1)) {
      const end = 5 + buffered.readUInt32BE(1);
      const flags = buffered[0] as number;
      const payload = Buffer.from(buffered.subarray(5, end));
      buffered = buffered.subarray(end);
      if (flags & 0x80) {
        if (buffered.length > 0) throw new Error(`server message ${index} has bytes after a 0x80 frame`);
        if (headers === undefined) headers = headerBlock(payload);
        else if (trailers === undefined) trailers = headerBlock(payload);
        else throw new Error(`server message ${index} is a third 0x80 frame`);
      } else {
        if (headers === undefined)
          throw new Error(`server message ${index}: a message frame before the headers`);
        if (trailers !== undefined)
          throw new Error(`server message ${index}: a message frame after the trailers`);
        replies.push(payload);
      }
    }
  }
  return { headers, messages: replies, trailers, leftover: buffered.length };
}

function headerBlock(block: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of block.toString("latin1").split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`a header line without a name: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields[name] = name in fields ? `${fields[name]}, ${value}` : value;
  }
  return fields;
}
