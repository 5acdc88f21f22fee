import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { WebContentType } from "../protocol/content-type.js";
import { Code, GrpcError } from "../protocol/status.js";
import {
  ClientMessageError,
  type ClientMessageLimits,
  ClientMessageReader,
} from "../protocol/websocket/client-messages.js";
import { CloseCode } from "../protocol/websocket/close-code.js";
import { ServerMessages } from "../protocol/websocket/server-messages.js";
import { DEADLINE, limitCause, MALFORMED, type Refusal } from "./outcome.js";
import { type BrowserListener, type Metadata, type StreamingBrowserSide, statusMetadata } from "./ports.js";

/** What `ws` names a message over its `maxPayload`: it stops reading it and closes with 1009 by itself. */
const WS_MESSAGE_TOO_BIG = "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";

export interface WebSocketSideOptions {
  readonly limits: ClientMessageLimits;
  /** How long the client has to send its first message, the metadata. */
  readonly firstMessageTimeoutMs: number;
  /** A ping after this long without a message or pong from the client, which has until the next one to answer; undefined: never. */
  readonly pingIntervalMs: number | undefined;
  /** True while the proxy drains: a call then closes with 1001 after its status. */
  readonly goingAway: () => boolean;
}

/** What the side tells whoever opened it before there is a call. */
export interface WebSocketSideEvents {
  /** The first message is the request metadata: start the call, which then listens to this side. */
  metadata(metadata: Readonly<Record<string, string>>, contentType: WebContentType): void;
  /** The first message was refused, or never came: its status went to the client. */
  refused(refusal: Refusal): void;
}

type Phase =
  | "awaiting-metadata"
  /** The call reads this side through the listener `listen` gave it. */
  | "call"
  /** The status went out (or the client went away): no client message is read any more. */
  | "ended";

/**
 * The browser's side of one call over a grpc-websockets WebSocket (docs/websocket.md): reads client messages with
 * the protocol's reader — the first one is the metadata, the rest go to the call as request bytes, finished sending
 * or a refusal — and writes the response as server messages: headers, each upstream DATA chunk as it came, the
 * trailers, then a close whose code says how the call ended. One socket, one call: its flow control is the call's.
 */
export class WebSocketSide implements StreamingBrowserSide {
  readonly requestStreams = true;
  readonly #ws: WebSocket;
  /** The TCP (or TLS) socket under `#ws`: its write buffer is what `write` reports on. */
  readonly #socket: Duplex;
  readonly #options: WebSocketSideOptions;
  readonly #events: WebSocketSideEvents;
  readonly #reader: ClientMessageReader;
  readonly #server = new ServerMessages();
  #phase: Phase = "awaiting-metadata";
  #listener: BrowserListener | undefined;
  /** Set when the client broke the protocol: the close code after the status. */
  #closeCode: CloseCode | undefined;
  #firstMessageTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;

  constructor(ws: WebSocket, socket: Duplex, options: WebSocketSideOptions, events: WebSocketSideEvents) {
    this.#ws = ws;
    this.#socket = socket;
    this.#options = options;
    this.#events = events;
    this.#reader = new ClientMessageReader(options.limits);
    ws.on("message", (data: Buffer, isBinary: boolean) => this.#message(data, isBinary));
    ws.on("pong", () => this.#heard());
    ws.on("error", (error: Error & { code?: string }) => this.#failed(error));
    ws.once("close", () => this.#closed());
    socket.on("drain", () => this.#listener?.browserDrained());
    this.#firstMessageTimer = setTimeout(WebSocketSide.#noFirstMessage, options.firstMessageTimeoutMs, this);
    if (options.pingIntervalMs !== undefined) {
      this.#pingTimer = setTimeout(WebSocketSide.#silent, options.pingIntervalMs, this);
    }
  }

  /** Ends the socket with `error` as the call's status before any call began (a refusal after the upgrade). */
  refuse(error: GrpcError): void {
    this.#end(statusMetadata(error));
  }

  // ---- BrowserSide

  listen(listener: BrowserListener): void {
    this.#listener = listener;
  }

  get headersSent(): boolean {
    return this.#server.headersSent;
  }

  sendHeaders(metadata: Metadata): void {
    this.#ws.send(this.#server.headers(metadata));
  }

  write(chunk: Buffer): boolean {
    this.#ws.send(chunk);
    return !this.#socket.writableNeedDrain;
  }

  finish(trailers: Metadata): void {
    this.#end(trailers);
  }

  trailersOnly(metadata: Metadata): void {
    // ServerMessages puts the empty headers message first; the socket closes after, whatever arrives.
    this.#end(metadata);
  }

  cut(): void {
    if (!this.#stop()) return;
    this.#ws.close(CloseCode.INTERNAL_ERROR);
  }

  pauseRequest(): void {
    this.#ws.pause();
  }

  resumeRequest(): void {
    this.#ws.resume();
  }

  // ---- the socket's events

  #message(data: Buffer, isBinary: boolean): void {
    if (this.#phase === "ended") return;
    this.#heard();
    const message = this.#reader.read(data, isBinary);
    if (this.#phase === "awaiting-metadata") {
      clearTimeout(this.#firstMessageTimer);
      if (message instanceof ClientMessageError) {
        this.#refuseFirst(
          message,
          message.code === Code.RESOURCE_EXHAUSTED ? limitCause("header_bytes") : MALFORMED,
        );
      } else if (message.kind === "metadata") {
        this.#phase = "call";
        this.#events.metadata(message.metadata, message.contentType);
      }
      return;
    }
    const listener = this.#listener as BrowserListener;
    if (message instanceof ClientMessageError) {
      this.#closeCode = message.closeCode;
      listener.requestFailed(message);
    } else if (message.kind === "data") {
      listener.requestData(message.bytes);
    } else if (message.kind === "finished") {
      listener.requestEnd();
    }
  }

  /** `ws` reports a frame it cannot take (over `maxPayload`, bad framing) and closes the socket itself. */
  #failed(error: Error & { code?: string }): void {
    const tooBig = error.code === WS_MESSAGE_TOO_BIG;
    const status = new GrpcError(
      tooBig ? Code.RESOURCE_EXHAUSTED : Code.INTERNAL,
      tooBig ? `a WebSocket message over the limit: ${error.message}` : `WebSocket error: ${error.message}`,
    );
    if (this.#phase === "awaiting-metadata") {
      if (!this.#stop()) return;
      this.#events.refused({ error: status, cause: tooBig ? limitCause("header_bytes") : MALFORMED });
    } else if (this.#phase === "call") {
      this.#listener?.requestFailed(status);
    }
  }

  #closed(): void {
    const phase = this.#phase;
    this.#stop();
    // Any close before the status cancels the call, whatever its code (a closed tab, ws.close() of a cancel).
    if (phase === "call") this.#listener?.browserGone();
  }

  #heard(): void {
    this.#awaitingPong = false;
    this.#pingTimer?.refresh();
  }

  // ---- endings

  #refuseFirst(error: ClientMessageError | GrpcError, cause: Refusal["cause"]): void {
    if (error instanceof ClientMessageError) this.#closeCode = error.closeCode;
    this.#end(statusMetadata(error));
    this.#events.refused({ error, cause });
  }

  /** The status as the last messages, then the close: the one ending of a call whose status can be sent. */
  #end(trailers: Metadata): void {
    if (!this.#stop()) return;
    for (const message of this.#server.end(trailers)) this.#ws.send(message);
    const draining = this.#options.goingAway() ? CloseCode.GOING_AWAY : CloseCode.NORMAL;
    this.#ws.close(this.#closeCode ?? draining);
  }

  /** Passes no more client messages on and stops the timers; false when that had happened already. */
  #stop(): boolean {
    if (this.#phase === "ended") return false;
    this.#phase = "ended";
    clearTimeout(this.#firstMessageTimer);
    clearTimeout(this.#pingTimer);
    // A paused socket would never read the client's close frame, and the closing handshake would wait for ws's timeout.
    this.#ws.resume();
    return true;
  }

  static #noFirstMessage(side: WebSocketSide): void {
    if (side.#phase !== "awaiting-metadata") return;
    side.#closeCode = CloseCode.POLICY_VIOLATION;
    const error = new GrpcError(
      Code.DEADLINE_EXCEEDED,
      `no request metadata within ${side.#options.firstMessageTimeoutMs} ms of opening the WebSocket`,
    );
    side.#refuseFirst(error, DEADLINE);
  }

  /** Nothing heard for an interval: ping; nothing heard for another (no pong either): the peer is gone. */
  static #silent(side: WebSocketSide): void {
    if (side.#awaitingPong) {
      side.#ws.terminate();
      return;
    }
    side.#awaitingPong = true;
    side.#ws.ping();
    side.#pingTimer?.refresh();
  }
}
