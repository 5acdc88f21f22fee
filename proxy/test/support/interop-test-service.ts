// gRPC's interop TestService (grpc-testing.proto) on @grpc/grpc-js, as the interop spec
// (grpc/grpc doc/interop-test-descriptions.md) has a server behave: reply sizes, intervals and an echoed
// status from the request, the echo metadata keys, and a record of how each call ended.
import { execFileSync } from "node:child_process";
import type { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  create,
  createFileRegistry,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import {
  Metadata,
  type MethodDefinition,
  Server,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { listenOnLoopback } from "./grpc-js-listen.js";
import type { Listener } from "./h2c-server.js";
import type { CallEnd, ObservationLog } from "./observations.js";
import { requestMetadata } from "./request-metadata.js";

const PROTO = fileURLToPath(new URL("grpc-testing.proto", import.meta.url));
const BUF = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));

/** How long grpc-js may take to report a client's reset after the request stream it ended. */
const CANCEL_REPORT_MS = 100;

/** The interop spec's echo keys: the server sends the first back as a response header, the second as a trailer. */
export const ECHO_INITIAL = "x-grpc-test-echo-initial";
export const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/** The messages and service of grpc-testing.proto, compiled from that file by buf (no generated code to go stale). */
export interface GrpcTesting {
  readonly service: DescService;
  readonly SimpleRequest: DescMessage;
  readonly SimpleResponse: DescMessage;
  readonly StreamingInputCallRequest: DescMessage;
  readonly StreamingInputCallResponse: DescMessage;
  readonly StreamingOutputCallRequest: DescMessage;
  readonly StreamingOutputCallResponse: DescMessage;
}

let loaded: GrpcTesting | undefined;

export function grpcTesting(): GrpcTesting {
  loaded ??= compile();
  return loaded;
}

function compile(): GrpcTesting {
  const set = fromBinary(
    FileDescriptorSetSchema,
    execFileSync(BUF, ["build", PROTO, "-o", "-#format=binpb"]),
  );
  const registry = createFileRegistry(set);
  const message = (name: string): DescMessage => {
    const desc = registry.getMessage(`grpc.testing.${name}`);
    if (!desc) throw new Error(`grpc-testing.proto has no message ${name}`);
    return desc;
  };
  const service = registry.getService("grpc.testing.TestService");
  if (!service) throw new Error("grpc-testing.proto has no TestService");
  return {
    service,
    SimpleRequest: message("SimpleRequest"),
    SimpleResponse: message("SimpleResponse"),
    StreamingInputCallRequest: message("StreamingInputCallRequest"),
    StreamingInputCallResponse: message("StreamingInputCallResponse"),
    StreamingOutputCallRequest: message("StreamingOutputCallRequest"),
    StreamingOutputCallResponse: message("StreamingOutputCallResponse"),
  };
}

/** The fields of the messages the service reads, as @bufbuild/protobuf gives them (descriptors are runtime, so the
 *  shapes are written here). */
interface Payload {
  readonly body: Uint8Array;
}
interface EchoStatus {
  readonly code: number;
  readonly message: string;
}
interface ResponseParameters {
  readonly size: number;
  readonly intervalUs: number;
}
interface SimpleRequest {
  readonly responseSize: number;
  readonly responseStatus?: EchoStatus;
}
interface StreamingInputCallRequest {
  readonly payload?: Payload;
}
interface StreamingOutputCallRequest {
  readonly responseParameters: readonly ResponseParameters[];
  readonly responseStatus?: EchoStatus;
}

type Init = MessageInitShape<DescMessage>;

/** A message of `desc` from plain fields, as bytes: what a client sends. */
export function encodeMessage(desc: DescMessage, fields: Record<string, unknown>): Uint8Array {
  return toBinary(desc, create(desc, fields as Init));
}

/** Bytes of a message of `desc` as plain fields (JSON names, bytes as Uint8Array). */
export function decodeMessage(desc: DescMessage, bytes: Uint8Array): Record<string, unknown> {
  return { ...fromBinary(desc, bytes) } as Record<string, unknown>;
}

/** An interop status the client asked for; thrown to end the call with it. */
class EchoedStatus extends Error {
  readonly code: number;
  constructor({ code, message }: EchoStatus) {
    super(message);
    this.code = code;
  }
}

export async function startInteropTestService(log: ObservationLog, port = 0): Promise<Listener> {
  const testing = grpcTesting();
  const server = new Server();
  const definition = testServiceDefinition();
  const payload = (size: number) => ({ body: new Uint8Array(size) });
  const outputResponse = (size: number) =>
    create(testing.StreamingOutputCallResponse, { payload: payload(size) });

  server.addService(definition, {
    UnaryCall(call: ServerUnaryCall<SimpleRequest, unknown>, callback: sendUnaryData<unknown>) {
      const { end, trailers } = begin(log, "UnaryCall", call);
      call.sendMetadata(echoedHeaders(call.metadata));
      const request = call.request;
      if (failsWith(request.responseStatus)) {
        end("finished");
        callback(errorResponse(new EchoedStatus(request.responseStatus), trailers));
        return;
      }
      end("finished");
      callback(null, create(testing.SimpleResponse, { payload: payload(request.responseSize) }), trailers);
    },

    StreamingOutputCall(call: ServerWritableStream<StreamingOutputCallRequest, unknown>) {
      const { end, trailers, signal } = begin(log, "StreamingOutputCall", call);
      call.sendMetadata(echoedHeaders(call.metadata));
      void finish(call, end, trailers, signal, async () => {
        await respond(call, call.request, outputResponse, signal);
        if (failsWith(call.request.responseStatus)) throw new EchoedStatus(call.request.responseStatus);
      });
    },

    StreamingInputCall(
      call: ServerReadableStream<StreamingInputCallRequest, unknown>,
      callback: sendUnaryData<unknown>,
    ) {
      const { end, trailers } = begin(log, "StreamingInputCall", call);
      call.sendMetadata(echoedHeaders(call.metadata));
      let aggregated = 0;
      call.on("data", (request: StreamingInputCallRequest) => {
        aggregated += request.payload?.body.length ?? 0;
      });
      call.on("end", () => {
        end("finished");
        callback(
          null,
          create(testing.StreamingInputCallResponse, { aggregatedPayloadSize: aggregated }),
          trailers,
        );
      });
    },

    FullDuplexCall(call: ServerDuplexStream<StreamingOutputCallRequest, unknown>) {
      const { end, trailers, signal } = begin(log, "FullDuplexCall", call);
      call.sendMetadata(echoedHeaders(call.metadata));
      void finish(call, end, trailers, signal, async () => {
        // Iterating a Node stream destroys it at the end by default, and with it the reply side.
        for await (const request of call.iterator({ destroyOnReturn: false })) {
          const asked = request as StreamingOutputCallRequest;
          if (failsWith(asked.responseStatus)) throw new EchoedStatus(asked.responseStatus);
          await respond(call, asked, outputResponse, signal);
        }
      });
    },

    HalfDuplexCall(call: ServerDuplexStream<StreamingOutputCallRequest, unknown>) {
      const { end, trailers, signal } = begin(log, "HalfDuplexCall", call);
      call.sendMetadata(echoedHeaders(call.metadata));
      void finish(call, end, trailers, signal, async () => {
        const requests: StreamingOutputCallRequest[] = [];
        for await (const request of call.iterator({ destroyOnReturn: false })) {
          requests.push(request as StreamingOutputCallRequest);
        }
        for (const asked of requests) {
          if (failsWith(asked.responseStatus)) throw new EchoedStatus(asked.responseStatus);
          await respond(call, asked, outputResponse, signal);
        }
      });
    },
  });

  return listenOnLoopback(server, port);
}

type AnyCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;
type ReplyingCall = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

/** Records the call's start and returns how to record its end, the trailers it ends with, and a signal for a
 *  client reset or a passed deadline. */
function begin(log: ObservationLog, method: string, call: AnyCall) {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  const timeoutMs = Number.isFinite(at) ? Math.max(0, Math.round(at - Date.now())) : undefined;
  const end: (event: CallEnd) => void = log.begin(
    method,
    requestMetadata(Object.entries(call.metadata.getMap())),
    timeoutMs,
  );
  const cancel = new AbortController();
  // grpc-js emits "cancelled" for a client reset and a passed deadline, and after a normal end too, which `end`
  // ignores because the call has ended by then.
  if (call.cancelled) cancel.abort();
  (call as EventEmitter).once("cancelled", () => {
    cancel.abort();
    end("cancelled");
  });
  return { end, trailers: echoedTrailers(call.metadata), signal: cancel.signal };
}

function echoedHeaders(request: Metadata): Metadata {
  const headers = new Metadata();
  for (const value of request.get(ECHO_INITIAL)) headers.add(ECHO_INITIAL, value);
  return headers;
}

function echoedTrailers(request: Metadata): Metadata {
  const trailers = new Metadata();
  for (const value of request.get(ECHO_TRAILING)) trailers.add(ECHO_TRAILING, value);
  return trailers;
}

function failsWith(echo: EchoStatus | undefined): echo is EchoStatus {
  return echo !== undefined && echo.code !== status.OK;
}

/** One reply per response parameter, each after its interval; stops when the call is cancelled. */
async function respond(
  call: ReplyingCall,
  request: StreamingOutputCallRequest,
  reply: (size: number) => unknown,
  signal: AbortSignal,
): Promise<void> {
  for (const { size, intervalUs } of request.responseParameters) {
    if (intervalUs > 0) await sleep(intervalUs / 1000, undefined, { signal });
    signal.throwIfAborted();
    call.write(reply(size));
  }
}

/** Runs a streaming handler to its end: trailers (with the echoed trailer) on success, the echoed status on
 *  failure, nothing when the client has gone. */
async function finish(
  call: ReplyingCall,
  end: (event: CallEnd) => void,
  trailers: Metadata,
  signal: AbortSignal,
  handle: () => Promise<void>,
): Promise<void> {
  try {
    await handle();
  } catch (error) {
    if (signal.aborted) return; // `begin` recorded the cancel
    end("finished");
    call.emit("error", errorResponse(error, trailers));
    return;
  }
  // A client's reset also ends the request stream, and grpc-js reports the cancel after that end (more than a tick
  // later when a bidi call's request was still open): wait for it, or a cancelled call would be recorded as finished.
  if (!signal.aborted) await sleep(CANCEL_REPORT_MS, undefined, { signal }).catch(() => {});
  if (signal.aborted) return;
  end("finished");
  call.end(trailers);
}

function errorResponse(error: unknown, trailers: Metadata): ServerErrorResponse {
  if (error instanceof EchoedStatus) {
    return { name: "EchoedStatus", message: error.message, code: error.code, metadata: trailers };
  }
  return { name: "Error", message: String(error), code: status.INTERNAL, metadata: trailers };
}

/** TestService for @grpc/grpc-js, server or client (`makeGenericClientConstructor`): the methods keyed by name. */
export function testServiceDefinition(): Record<string, MethodDefinition<unknown, unknown>> {
  return Object.fromEntries(grpcTesting().service.methods.map((m) => [m.name, methodDefinition(m)]));
}

function methodDefinition(method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    // Through create(), so that a client may pass plain fields.
    requestSerialize: (message) => asBuffer(toBinary(method.input, create(method.input, message as Init))),
    requestDeserialize: (bytes) => fromBinary(method.input, bytes),
    responseSerialize: (message) => asBuffer(toBinary(method.output, create(method.output, message as Init))),
    responseDeserialize: (bytes) => fromBinary(method.output, bytes),
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
