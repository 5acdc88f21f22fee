// The reference peer of the grpc-websockets protocol code, for tests of that code over real sockets and real
// clients: a bare `ws` server that reads client messages with ClientMessageReader, writes with ServerMessages
// and echoes each request frame back as a reply. No upstream, no routes, no limits but the protocol's: it checks
// the wire, not a proxy.
import { once } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { Code, encodeGrpcMessage, type GrpcError } from "../../src/protocol/status.js";
import { ClientMessageError, ClientMessageReader } from "../../src/protocol/websocket/client-messages.js";
import { CloseCode } from "../../src/protocol/websocket/close-code.js";
import { ServerMessages } from "../../src/protocol/websocket/server-messages.js";
import { selectSubprotocol } from "../../src/protocol/websocket/subprotocol.js";
import { frame } from "./chunks.js";

/** A grpc-message with non-ASCII text and a '%', as the "refuse" scenario sends it. */
export const REFUSAL_MESSAGE = "Grüße aus Köln: 100% ✓";

/** The first message's `x-scenario` line picks an ending other than the echo's. */
export type EchoScenario =
  /** Refuse at once: an empty headers message, then PERMISSION_DENIED with REFUSAL_MESSAGE. */
  | "refuse"
  /** Headers, one whole reply, half of another, then close 1011. */
  | "stop-mid-frame";

/** What the server saw of one call. */
export interface SeenCall {
  path: string;
  upgrade: IncomingHttpHeaders;
  protocol: string;
  /** Every client message, raw, in order. */
  messages: Buffer[];
  metadata?: Readonly<Record<string, string>>;
  /** The close code of the client's close frame (1005: none), once the socket closed. */
  closedWith?: number;
}

export interface EchoServer {
  /** http://127.0.0.1:port, which clients turn into ws://. */
  readonly host: string;
  readonly calls: SeenCall[];
  close(): Promise<void>;
}

export interface EchoOptions {
  readonly maxMessageBytes?: number;
  readonly maxMetadataBytes?: number;
  /** The `ws` library's cap on one WebSocket message; default: one control byte and one largest frame. */
  readonly maxPayload?: number;
}

/** Request bytes go back as they came (request frames are message frames, so they read as replies); finished
 *  sending ends the call with OK and a trailer `x-trailer: t`. */
export async function startEchoServer(options: EchoOptions = {}): Promise<EchoServer> {
  const maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
  const limits = { maxMessageBytes, maxMetadataBytes: options.maxMetadataBytes ?? 8192 };
  const calls: SeenCall[] = [];
  const server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    maxPayload: options.maxPayload ?? 1 + 5 + maxMessageBytes,
    handleProtocols: (offered) => selectSubprotocol(offered) ?? false,
  });
  server.on("connection", (socket, request) => {
    const seen: SeenCall = {
      path: request.url ?? "",
      upgrade: request.headers,
      protocol: socket.protocol,
      messages: [],
    };
    calls.push(seen);
    const reader = new ClientMessageReader(limits);
    const server = new ServerMessages();
    socket.on("error", () => {}); // a refused oversized message: `close` below records the code
    socket.on("close", (code) => {
      seen.closedWith = code;
    });
    socket.on("message", (data: Buffer, isBinary) => {
      seen.messages.push(Buffer.from(data));
      // Once the call has ended, what the client still had in flight is read no more.
      if (socket.readyState !== socket.OPEN) return;
      // The replies so far are the request bytes before this message, so they stop inside a frame exactly where
      // those do, and a trailer frame can follow only on a boundary.
      const repliesAtBoundary = reader.atFrameBoundary;
      const message = reader.read(data, isBinary);
      if (message instanceof ClientMessageError) {
        if (repliesAtBoundary) endWith(socket, server, statusTrailers(message), message.closeCode);
        else socket.close(CloseCode.INTERNAL_ERROR);
        return;
      }
      switch (message.kind) {
        case "metadata":
          seen.metadata = message.metadata;
          begin(socket, server, message.metadata);
          return;
        case "data":
          socket.send(message.bytes);
          return;
        case "finished":
          endWith(socket, server, [
            ["grpc-status", "0"],
            ["x-trailer", "t"],
          ]);
      }
    });
  });
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}`,
    calls,
    async close() {
      for (const client of server.clients) client.terminate();
      server.close();
      await once(server, "close");
    },
  };
}

function begin(socket: WebSocket, server: ServerMessages, metadata: Readonly<Record<string, string>>) {
  switch (metadata["x-scenario"] as EchoScenario | undefined) {
    case "refuse":
      endWith(socket, server, [
        ["grpc-status", String(Code.PERMISSION_DENIED)],
        ["grpc-message", encodeGrpcMessage(REFUSAL_MESSAGE)],
        ["x-refusal", "r"],
      ]);
      return;
    case "stop-mid-frame":
      socket.send(server.headers([]));
      socket.send(frame(0, "a whole reply"));
      socket.send(frame(0, "half a reply").subarray(0, 8));
      socket.close(CloseCode.INTERNAL_ERROR);
      return;
    default:
      socket.send(server.headers([["x-echo-initial", metadata["x-echo-initial"] ?? "none"]]));
  }
}

function statusTrailers(error: GrpcError): Array<[string, string]> {
  return [
    ["grpc-status", String(error.code)],
    ["grpc-message", encodeGrpcMessage(error.message)],
  ];
}

function endWith(
  socket: WebSocket,
  server: ServerMessages,
  trailers: Array<[string, string]>,
  closeCode: number = CloseCode.NORMAL,
) {
  for (const message of server.end(trailers)) socket.send(message);
  socket.close(closeCode);
}
