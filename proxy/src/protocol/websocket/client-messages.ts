import { parseWebContentType, type WebContentType } from "../content-type.js";
import { FLAG_COMPRESSED, FLAG_TRAILER, FRAME_HEADER_BYTES } from "../frame.js";
import { Code, GrpcError } from "../status.js";
import { CloseCode } from "./close-code.js";
import { parseHeaderLines } from "./header-lines.js";

/** The control byte that starts every client message after the first. */
export const Control = {
  /** The rest of the message is request bytes: gRPC frames, or pieces of them. */
  DATA: 0x00,
  /** The message is this one byte: the client has finished sending (half-close). */
  FINISHED: 0x01,
} as const;

const KNOWN_FLAGS = FLAG_COMPRESSED | FLAG_TRAILER;

/** A client message the proxy refuses: a gRPC status for the browser, and the close code that follows it. */
export class ClientMessageError extends GrpcError {
  readonly closeCode: CloseCode;

  constructor(code: number, message: string, closeCode: CloseCode) {
    super(code, message);
    this.closeCode = closeCode;
  }
}

/** One client message, understood. */
export type ClientMessage =
  /** The first message: the request metadata, and the message codec its content-type names. */
  | {
      readonly kind: "metadata";
      readonly metadata: Readonly<Record<string, string>>;
      readonly contentType: WebContentType;
    }
  /** Request bytes to send upstream as they are: the message without its control byte, not a copy. */
  | { readonly kind: "data"; readonly bytes: Buffer }
  /** Half-close: end the upstream request stream; replies keep coming. */
  | { readonly kind: "finished" };

export interface ClientMessageLimits {
  /** Largest gRPC request message, checked on each frame's header before its payload arrives. */
  readonly maxMessageBytes: number;
  /** Largest first message (the metadata's header lines), in bytes. */
  readonly maxMetadataBytes: number;
}

type ReaderState =
  | { readonly phase: "awaiting-metadata" }
  | { readonly phase: "sending"; readonly compressed: boolean }
  | { readonly phase: "finished" }
  | { readonly phase: "failed"; readonly error: ClientMessageError };

const BINARY_GRPC_WEB: WebContentType = { text: false, suffix: "" };

/**
 * Reads the client side of a grpc-websockets call, one WebSocket message at a time: the metadata, then request
 * bytes and the half-close. Request bytes form a stream of gRPC frames that may be cut anywhere between messages
 * (improbable's client sends one whole frame per message; grpcwebproxy reads them as a byte stream), so frame
 * boundaries are followed across messages, and each frame header is checked as soon as its 5 bytes are in, before
 * its payload is. The first refusal is final: every later message gets the same error.
 */
export class ClientMessageReader {
  readonly #limits: ClientMessageLimits;
  #state: ReaderState = { phase: "awaiting-metadata" };
  readonly #frames = new RequestFrames();

  constructor(limits: ClientMessageLimits) {
    this.#limits = limits;
  }

  read(data: Buffer, isBinary: boolean): ClientMessage | ClientMessageError {
    const state = this.#state;
    switch (state.phase) {
      case "failed":
        return state.error;
      case "finished":
        return this.#fail(
          Code.INTERNAL,
          "a message came after the client finished sending",
          CloseCode.PROTOCOL_ERROR,
        );
    }
    if (!isBinary) {
      return this.#fail(
        Code.INTERNAL,
        "a text WebSocket message: every message of a grpc-websockets call is binary",
        CloseCode.UNSUPPORTED_DATA,
      );
    }
    return state.phase === "awaiting-metadata"
      ? this.#readMetadata(data)
      : this.#readAfterMetadata(data, state);
  }

  /** True when the request bytes so far end on a frame boundary (a socket closed now cut no message in half). */
  get atFrameBoundary(): boolean {
    return this.#frames.atBoundary;
  }

  #readMetadata(data: Buffer): ClientMessage | ClientMessageError {
    if (data.length > this.#limits.maxMetadataBytes) {
      return this.#fail(
        Code.RESOURCE_EXHAUSTED,
        `request metadata of ${data.length} bytes is larger than the limit of ${this.#limits.maxMetadataBytes} bytes`,
        CloseCode.MESSAGE_TOO_BIG,
      );
    }
    const metadata = parseHeaderLines(data);
    if (metadata instanceof GrpcError)
      return this.#fail(metadata.code, metadata.message, CloseCode.PROTOCOL_ERROR);
    const contentType = this.#contentType(metadata["content-type"]);
    if (contentType instanceof ClientMessageError) return contentType;
    const encoding = metadata["grpc-encoding"];
    this.#state = { phase: "sending", compressed: encoding !== undefined && encoding !== "identity" };
    return { kind: "metadata", metadata, contentType };
  }

  /** The codec comes from the metadata's content-type, as on HTTP; with none, binary protobuf (application/grpc). */
  #contentType(value: string | undefined): WebContentType | ClientMessageError {
    if (value === undefined) return BINARY_GRPC_WEB;
    const parsed = parseWebContentType(value);
    if (parsed === undefined) {
      return this.#fail(
        Code.INTERNAL,
        `content-type ${JSON.stringify(value)} is not gRPC-Web`,
        CloseCode.PROTOCOL_ERROR,
      );
    }
    if (parsed.text) {
      return this.#fail(
        Code.INTERNAL,
        `content-type ${JSON.stringify(value)}: grpc-web-text is not carried over WebSocket, whose messages are binary`,
        CloseCode.PROTOCOL_ERROR,
      );
    }
    return parsed;
  }

  #readAfterMetadata(
    data: Buffer,
    state: { readonly compressed: boolean },
  ): ClientMessage | ClientMessageError {
    if (data.length === 0) {
      return this.#fail(
        Code.INTERNAL,
        "an empty message, without its control byte",
        CloseCode.PROTOCOL_ERROR,
      );
    }
    const control = data[0] as number;
    if (control === Control.FINISHED) {
      if (data.length > 1) {
        return this.#fail(
          Code.INTERNAL,
          `the finished-sending message (control byte 1) has ${data.length - 1} bytes after its control byte`,
          CloseCode.PROTOCOL_ERROR,
        );
      }
      if (!this.#frames.atBoundary) {
        return this.#fail(
          Code.INTERNAL,
          `the client finished sending in the middle of a frame (${this.#frames.describePosition()})`,
          CloseCode.PROTOCOL_ERROR,
        );
      }
      this.#state = { phase: "finished" };
      return { kind: "finished" };
    }
    if (control !== Control.DATA) {
      return this.#fail(
        Code.INTERNAL,
        `unknown control byte 0x${control.toString(16).padStart(2, "0")} (0 = data follows, 1 = finished sending)`,
        CloseCode.PROTOCOL_ERROR,
      );
    }
    const bytes = data.subarray(1);
    const bad = this.#frames.push(bytes, this.#limits.maxMessageBytes, state.compressed);
    if (bad !== undefined) return this.#fail(bad.code, bad.message, bad.closeCode);
    return { kind: "data", bytes };
  }

  #fail(code: number, message: string, closeCode: CloseCode): ClientMessageError {
    const error = new ClientMessageError(code, message, closeCode);
    this.#state = { phase: "failed", error };
    return error;
  }
}

interface FrameRefusal {
  readonly code: number;
  readonly message: string;
  readonly closeCode: CloseCode;
}

/** Follows gRPC frame boundaries in the request byte stream and checks each frame header; keeps no payload. */
class RequestFrames {
  #headerFilled = 0;
  #flags = 0;
  #length = 0;
  #payloadLeft = 0;

  get atBoundary(): boolean {
    return this.#headerFilled === 0 && this.#payloadLeft === 0;
  }

  describePosition(): string {
    return this.#payloadLeft > 0
      ? `${this.#payloadLeft} of its ${this.#length} payload bytes missing`
      : `${FRAME_HEADER_BYTES - this.#headerFilled} of its ${FRAME_HEADER_BYTES} header bytes missing`;
  }

  push(bytes: Uint8Array, maxMessageBytes: number, compressed: boolean): FrameRefusal | undefined {
    let at = 0;
    while (at < bytes.length) {
      if (this.#payloadLeft > 0) {
        const taken = Math.min(this.#payloadLeft, bytes.length - at);
        this.#payloadLeft -= taken;
        at += taken;
        continue;
      }
      const byte = bytes[at++] as number;
      if (this.#headerFilled === 0) {
        this.#flags = byte;
        this.#length = 0;
      } else {
        // Multiplication, not <<, so that lengths of 2^31 and above stay positive.
        this.#length = this.#length * 256 + byte;
      }
      if (++this.#headerFilled < FRAME_HEADER_BYTES) continue;
      this.#headerFilled = 0;
      const refusal = checkFrameHeader(this.#flags, this.#length, maxMessageBytes, compressed);
      if (refusal !== undefined) return refusal;
      this.#payloadLeft = this.#length;
    }
    return undefined;
  }
}

/** The same rules as a gRPC-Web request body over HTTP (frame.ts), for frames that come many to a call. */
function checkFrameHeader(
  flags: number,
  length: number,
  maxMessageBytes: number,
  compressed: boolean,
): FrameRefusal | undefined {
  const protocolError = (message: string): FrameRefusal => ({
    code: Code.INTERNAL,
    message,
    closeCode: CloseCode.PROTOCOL_ERROR,
  });
  if (flags & FLAG_TRAILER) {
    return protocolError("request frame has the trailer flag (0x80): only the server sends trailer frames");
  }
  if (flags & ~KNOWN_FLAGS) return protocolError(`request frame has unknown flags 0x${flags.toString(16)}`);
  if (flags & FLAG_COMPRESSED && !compressed) {
    return protocolError(
      "request frame has the compressed flag but the metadata has no grpc-encoding (or identity)",
    );
  }
  if (length > maxMessageBytes) {
    return {
      code: Code.RESOURCE_EXHAUSTED,
      message: `request message of ${length} bytes is larger than the limit of ${maxMessageBytes} bytes`,
      closeCode: CloseCode.MESSAGE_TOO_BIG,
    };
  }
  return undefined;
}
