import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { StreamRequest, StreamResponse } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "../compression.js";
import {
  compressedFlag,
  type Frame,
  frameParts,
  protocolError,
  readFrames,
  trailerFlag,
} from "../protocol/envelope.js";
import { headerAcceptEncoding, headerEncoding } from "../protocol/headers.js";
import { checkStatus, parseTrailer } from "../protocol/status.js";
import { dataMessage, finishedSending, headerLines, subprotocol } from "./messages.js";

/** What the transport needs of a WebSocket: the browser's, or `ws`'s in Node. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  addEventListener(type: "open" | "error", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
}

export type WebSocketConstructor = new (url: string, protocol: string) => WebSocketLike;

/** `readyState` of an open WebSocket. */
const open = 1;

// Close codes after which a missing status is the server's doing, not the network's (RFC 6455 7.4.1).
const normalClosure = 1000;
const goingAway = 1001;

/**
 * Past this many bytes queued in the socket, the next request is not pulled from the caller's iterable
 * until they drain: a caller that yields faster than the network takes them holds at most this much
 * plus one message. Large enough that a steady stream of small messages never waits.
 */
export const sendHighWaterMark = 256 * 1024;
/** The longest pause between two looks at `bufferedAmount` (a WebSocket has no drain event). */
const drainPollMaxMs = 16;

/**
 * One call over its own WebSocket (docs/websocket.md): the request headers as the first message, each
 * request message as a data message as the caller's iterable yields it, then "finished sending"; the
 * server's messages are the gRPC-Web response body, its first trailer-flagged frame the headers and its
 * second the trailers. Resolves once the headers are in; requests go out meanwhile, so that a server
 * which answers only after a request gets one. Aborting the request's signal closes the socket, which
 * the proxy turns into a cancelled upstream call. The transport's compression, if any, frames the
 * requests and decompresses the replies.
 */
export function webSocketCall(WebSocket: WebSocketConstructor | undefined, codec: Compression | undefined) {
  return async (req: StreamRequest): Promise<StreamResponse> => {
    // The first message is sent before any request is framed: it announces the encoding the frames may use.
    if (codec) {
      req.header.set(headerEncoding, codec.name);
      req.header.set(headerAcceptEncoding, codec.name);
    }
    const url = req.url.replace(/^http/, "ws");
    const Socket = WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    if (!Socket) {
      throw new ConnectError(
        "no WebSocket here: pass one as the WebSocket option (ws's in Node 20)",
        Code.Unimplemented,
      );
    }
    const socket = new Socket(url, subprotocol);
    socket.binaryType = "arraybuffer";
    const frames = readFrames(responseBody(socket, url, req, codec));
    const first = await frames.next();
    if (first.done) throw new ConnectError("the WebSocket closed without a response", Code.Unknown);
    const [flags, data] = first.value;
    if (!(flags & trailerFlag)) throw protocolError("a message before the response headers");
    const header = parseTrailer(data);
    const trailer = new Headers();
    const { service, method } = req;
    const message = readReplies(frames, method.output, header, trailer, codec);
    return { stream: true, service, method, header, trailer, message } as StreamResponse;
  };
}

/**
 * The server's messages as one byte stream; requests are sent from the moment the socket opens. A
 * failure on either side, or the call's signal, errors the stream and closes the socket.
 */
function responseBody(
  socket: WebSocketLike,
  url: string,
  req: StreamRequest,
  codec: Compression | undefined,
): ReadableStream<Uint8Array> {
  // "ended" once the stream is closed or errored: a message the server still had in flight is dropped.
  let state: "connecting" | "open" | "ended" = "connecting";
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (reason: unknown) => {
        state = "ended";
        controller.error(reason);
        socket.close();
      };
      if (req.signal.aborted) return fail(req.signal.reason);
      req.signal.addEventListener("abort", () => fail(req.signal.reason));
      socket.addEventListener("open", () => {
        if (state !== "connecting") return;
        state = "open";
        sendRequests(socket, req, codec).catch(fail);
      });
      socket.addEventListener("message", ({ data }) => {
        if (state !== "open") return;
        if (data instanceof ArrayBuffer) controller.enqueue(new Uint8Array(data));
        else fail(protocolError("a text message"));
      });
      // A failed socket also closes; the close says what happened.
      socket.addEventListener("error", () => {});
      socket.addEventListener("close", ({ code, reason }) => {
        if (state === "connecting") {
          return fail(
            new ConnectError(
              `could not open a WebSocket to ${url} (is the proxy up, and does it allow this origin?)`,
              Code.Unavailable,
            ),
          );
        }
        if (state === "ended") return;
        state = "ended";
        if (code === normalClosure || code === goingAway) return controller.close();
        controller.error(
          new ConnectError(
            `the WebSocket closed with code ${code}${reason ? ` (${reason})` : ""}`,
            code === 1006 ? Code.Unavailable : Code.Unknown,
          ),
        );
      });
    },
  });
}

/**
 * Sends the headers, each request message as it comes, then "finished sending"; stops once the socket is
 * not open. The next request is pulled only once the socket holds at most `sendHighWaterMark` unsent bytes.
 */
async function sendRequests(
  socket: WebSocketLike,
  req: StreamRequest,
  codec: Compression | undefined,
): Promise<void> {
  socket.send(headerLines(req.header));
  for await (const message of req.message) {
    if (socket.readyState !== open) return;
    const payload = toBinary(req.method.input, message) as Uint8Array<ArrayBuffer>;
    socket.send(dataMessage(codec ? await codec.frame(payload, req.header) : frameParts(payload)));
    await drained(socket);
  }
  if (socket.readyState === open) socket.send(finishedSending);
}

/** Resolves once the socket holds no more than `sendHighWaterMark` unsent bytes, or is no longer open. */
async function drained(socket: WebSocketLike): Promise<void> {
  for (let pauseMs = 1; socket.readyState === open && socket.bufferedAmount > sendHighWaterMark; ) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(2 * pauseMs, drainPollMaxMs);
  }
}

/**
 * The replies after the headers frame, the trailers copied into `trailer`; a status other than OK is
 * thrown. A compressed frame must be in the encoding the call offered.
 */
async function* readReplies<Desc extends DescMessage>(
  frames: AsyncGenerator<Frame>,
  schema: Desc,
  header: Headers,
  trailer: Headers,
  codec: Compression | undefined,
): AsyncGenerator<MessageShape<Desc>> {
  for await (let [flags, data] of frames) {
    if (flags & compressedFlag) {
      if (!codec) throw protocolError("compressed frame, no encoding offered");
      data = await codec.decompress(data, header);
    }
    if (!(flags & trailerFlag)) {
      yield fromBinary(schema, data);
      continue;
    }
    parseTrailer(data, trailer);
    checkStatus(trailer, header);
    return;
  }
  throw new ConnectError("the WebSocket closed without grpc-status", Code.Unknown, header);
}
