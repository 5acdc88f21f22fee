// The test greeter on @grpc/grpc-js, with the hand-made service definition.
import { create } from "@bufbuild/protobuf";
import {
  Metadata,
  Server,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { type HelloReply, HelloReplySchema, type HelloRequest } from "@grpc-web-bridge/client-web/greeter";
import { greeterDefinition } from "./greeter-definition.js";
import { type GreeterPlan, type MetadataEntries, planGreeting } from "./greeter-plan.js";
import { bidiGreetings, GreeterFailure, streamGreetings, unaryGreeting } from "./greetings.js";
import { listenOnLoopback } from "./grpc-js-listen.js";
import type { Listener } from "./h2c-server.js";
import { type CallEnd, type ObservationLog, observed, observedReply } from "./observations.js";
import { requestMetadata } from "./request-metadata.js";

type AnyCall = ServerUnaryCall<HelloRequest, HelloReply> | ServerDuplexStream<HelloRequest, HelloReply>;
type StreamingCall =
  | ServerWritableStream<HelloRequest, HelloReply>
  | ServerDuplexStream<HelloRequest, HelloReply>;

export async function startGrpcJsBackend(log: ObservationLog, port = 0): Promise<Listener> {
  const server = new Server();
  server.addService(greeterDefinition, {
    SayHello(call: ServerUnaryCall<HelloRequest, HelloReply>, callback: sendUnaryData<HelloReply>) {
      const { plan, end, signal } = begin(log, "SayHello", call);
      observedReply(end, unaryGreeting(plan, call.request.name, signal), signal).then(
        (message) => {
          call.sendMetadata(metadata(plan.headers));
          callback(null, create(HelloReplySchema, { message }), metadata(plan.trailers));
        },
        (error) => callback(errorStatus(error, plan, false)),
      );
    },
    SayHelloStreamReply(call: ServerWritableStream<HelloRequest, HelloReply>) {
      const { plan, end, signal } = begin(log, "SayHelloStreamReply", call);
      void writeAll(call, plan, observed(end, streamGreetings(plan, call.request.name, signal), signal));
    },
    SayHelloBidiStream(call: ServerDuplexStream<HelloRequest, HelloReply>) {
      const { plan, end, signal } = begin(log, "SayHelloBidiStream", call);
      // Iterating a Node stream destroys it at the end by default, and with it the reply side.
      const requests: AsyncIterable<HelloRequest> = call.iterator({ destroyOnReturn: false });
      void writeAll(call, plan, observed(end, bidiGreetings(requests), signal));
    },
  });
  return listenOnLoopback(server, port);
}

function begin(log: ObservationLog, method: string, call: AnyCall) {
  const metadata = requestMetadata(Object.entries(call.metadata.getMap()));
  const end: (event: CallEnd) => void = log.begin(method, metadata, remainingMs(call.getDeadline()));
  const cancel = new AbortController();
  // grpc-js emits "cancelled" for a client reset and a passed deadline (and after a normal end too,
  // which the observation ignores because the call has ended by then).
  if (call.cancelled) cancel.abort();
  else call.once("cancelled", () => cancel.abort());
  return { plan: planGreeting(metadata), end, signal: cancel.signal };
}

/** Headers go out with the first message; with none, they join the trailers in one Trailers-Only frame. */
async function writeAll(
  call: StreamingCall,
  plan: GreeterPlan,
  replies: AsyncIterable<string>,
): Promise<void> {
  let sent = 0;
  try {
    for await (const message of replies) {
      if (sent++ === 0) call.sendMetadata(metadata(plan.headers));
      call.write(create(HelloReplySchema, { message }));
    }
    call.end(metadata(sent > 0 ? plan.trailers : [...plan.headers, ...plan.trailers]));
  } catch (error) {
    call.emit("error", errorStatus(error, plan, sent > 0));
  }
}

function errorStatus(error: unknown, plan: GreeterPlan, messagesSent: boolean): ServerErrorResponse {
  if (!(error instanceof GreeterFailure))
    return { name: "Cancelled", message: "cancelled", code: status.CANCELLED };
  const trailers = messagesSent ? plan.trailers : [...plan.headers, ...plan.trailers];
  return { name: "GreeterFailure", message: error.message, code: error.code, metadata: metadata(trailers) };
}

function metadata(entries: MetadataEntries): Metadata {
  const result = new Metadata();
  for (const [key, value] of entries) result.set(key, value);
  return result;
}

function remainingMs(deadline: Date | number): number | undefined {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, Math.round(at - Date.now())) : undefined;
}
