import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { BridgedCall, type CallLimits, type CallRequest } from "../../src/call/bridged-call.js";
import type { CallOutcome } from "../../src/call/outcome.js";
import type {
  BrowserListener,
  BrowserSide,
  Metadata,
  UpstreamListener,
  UpstreamSide,
} from "../../src/call/ports.js";
import { Code, GrpcError } from "../../src/protocol/status.js";

/** What the call did to the browser's side, in order. */
export type BrowserEvent =
  | { readonly kind: "headers"; readonly metadata: Metadata }
  | { readonly kind: "write"; readonly bytes: Buffer }
  | { readonly kind: "finish"; readonly trailers: Metadata }
  | { readonly kind: "trailersOnly"; readonly metadata: Metadata; readonly closeConnection: boolean };

/** A browser side that records what the call sends it; `accepting` false makes writes report backpressure. */
export class FakeBrowser implements BrowserSide {
  readonly events: BrowserEvent[] = [];
  listener: BrowserListener | undefined;
  headersSent = false;
  accepting = true;

  listen(listener: BrowserListener): void {
    this.listener = listener;
  }

  sendHeaders(metadata: Metadata): void {
    this.#head();
    this.events.push({ kind: "headers", metadata });
  }

  write(chunk: Buffer): boolean {
    if (!this.headersSent) throw new Error("a write before the headers");
    this.events.push({ kind: "write", bytes: Buffer.from(chunk) });
    return this.accepting;
  }

  finish(trailers: Metadata): void {
    if (!this.headersSent) throw new Error("trailers before the headers");
    this.events.push({ kind: "finish", trailers });
  }

  trailersOnly(metadata: Metadata, closeConnection: boolean): void {
    this.#head();
    this.events.push({ kind: "trailersOnly", metadata, closeConnection });
  }

  /** The bytes written, joined. */
  get body(): Buffer {
    return Buffer.concat(this.events.flatMap((e) => (e.kind === "write" ? [e.bytes] : [])));
  }

  /** The last event, which ends the response. */
  get last(): BrowserEvent | undefined {
    return this.events.at(-1);
  }

  #head(): void {
    if (this.headersSent) throw new Error("headers sent twice");
    this.headersSent = true;
  }
}

/** A browser side whose request streams, as a WebSocket's does: records whether the call paused its reading. */
export class FakeStreamingBrowser extends FakeBrowser {
  readonly requestStreams = true;
  paused = false;

  pauseRequest(): void {
    this.paused = true;
  }

  resumeRequest(): void {
    this.paused = false;
  }
}

/** An upstream side that records the streams the call sends and lets the test play the backend. */
export class FakeUpstream implements UpstreamSide {
  readonly authority = "backend.test:50051";
  readonly address = new URL("http://backend.test:50051");
  /** The streams sent; `body` undefined for a streamed request, whose bytes `written` records. */
  readonly sent: { headers: OutgoingHttpHeaders; body: Buffer | undefined }[] = [];
  /** What `write` got, per stream sent without a body, and whether `endRequest` followed. */
  readonly written: Buffer[] = [];
  requestEnded = false;
  /** `write` returns this: false plays a backend that is not keeping up. */
  keepingUp = true;
  listener: UpstreamListener | undefined;
  paused = false;
  cancels = 0;
  neverSent = false;
  /** Thrown by the next `send`. */
  refuseWith: Error | undefined;
  failureCode: number = Code.UNAVAILABLE;

  send(headers: OutgoingHttpHeaders, body: Buffer | undefined, listener: UpstreamListener): void {
    if (this.refuseWith) throw this.refuseWith;
    this.sent.push({ headers, body });
    this.listener = listener;
  }

  write(chunk: Buffer): boolean {
    if (this.requestEnded) throw new Error("a write after endRequest");
    this.written.push(Buffer.from(chunk));
    return this.keepingUp;
  }

  endRequest(): void {
    this.requestEnded = true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  cancel(): void {
    this.cancels++;
  }

  failure(responded: boolean): GrpcError {
    return new GrpcError(this.failureCode, `fake failure (responded: ${responded})`);
  }

  // ---- the backend's side of the stream

  respond(headers: IncomingHttpHeaders = GRPC_HEADERS, endStream = false): void {
    this.#listening().upstreamHeaders(headers, endStream);
  }

  data(chunk: Buffer): void {
    this.#listening().upstreamData(chunk);
  }

  trailers(trailers: IncomingHttpHeaders): void {
    this.#listening().upstreamTrailers(trailers);
  }

  close(): void {
    this.#listening().upstreamClosed();
  }

  drained(): void {
    this.keepingUp = true;
    this.#listening().upstreamDrained();
  }

  #listening(): UpstreamListener {
    if (!this.listener) throw new Error("no stream was sent");
    return this.listener;
  }
}

export const GRPC_HEADERS: IncomingHttpHeaders = { ":status": "200", "content-type": "application/grpc" };

export const LIMITS: CallLimits = {
  maxMessageBytes: 1024,
  maxResponseMessageBytes: 1024,
  maxTimeoutMs: undefined,
  defaultTimeoutMs: undefined,
  streamIdleTimeoutMs: undefined,
};

/** One gRPC frame: flags, 4-byte big-endian length, payload. */
export function frame(payload: string | Buffer, flags = 0): Buffer {
  const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(5);
  header[0] = flags;
  header.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

/** A call wired to a fake browser and a fake upstream, started; `outcome` resolves when it ends. */
export function startCall<Browser extends FakeBrowser = FakeBrowser>(
  request: Partial<Omit<CallRequest, "observer">> = {},
  browser: Browser = new FakeBrowser() as Browser,
) {
  const upstream = new FakeUpstream();
  const outcomes: CallOutcome[] = [];
  let ended: (outcome: CallOutcome) => void = () => {};
  const outcome = new Promise<CallOutcome>((resolve) => {
    ended = resolve;
  });
  const call = new BridgedCall(
    {
      headers: {},
      path: "/helloworld.Greeter/SayHello",
      contentType: { text: false, suffix: "" },
      clientAddress: "127.0.0.1",
      clientProtocol: "http",
      limits: LIMITS,
      headerPolicy: { trustForwarded: false, passSetCookie: false },
      ...request,
      observer: {
        callEnded(o) {
          outcomes.push(o);
          ended(o);
        },
      },
    },
    browser,
    upstream,
  );
  call.start();
  const listener = browser.listener as BrowserListener;
  return { call, browser, upstream, outcome, outcomes, listener };
}

/** The value of `name` in metadata. */
export function metadataValue(metadata: Metadata, name: string): string | undefined {
  return metadata.find(([n]) => n === name)?.[1];
}
