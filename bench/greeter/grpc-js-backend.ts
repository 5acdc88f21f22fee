// The same Greeter on @grpc/grpc-js, selectable with `--backend grpc-js`. Usage: grpc-js-backend.ts <port>
import { once } from "node:events";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Greeter,
  type HelloReply,
  HelloReplySchema,
  type HelloRequest,
} from "@grpc-web-bridge/client-web/greeter";
import { BidiReplies, IDLE_NAME, IDLE_REPLY, parseStreamName, streamReply, unaryReply } from "./contract.js";
import { openCalls, serveTheBench } from "./open-calls.js";

const serializer =
  <D extends DescMessage>(schema: D) =>
  (message: MessageShape<D>) =>
    Buffer.from(toBinary(schema, message));
const deserializer =
  <D extends DescMessage>(schema: D) =>
  (bytes: Buffer) =>
    fromBinary(schema, bytes);

/** grpc-js wants a service definition; derive it from the generated descriptor instead of a .proto loader. */
const definition: grpc.ServiceDefinition = Object.fromEntries(
  Greeter.methods.map((method) => [
    method.localName,
    {
      path: `/${Greeter.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    },
  ]),
);

const reply = (message: string) => create(HelloReplySchema, { message });
type ReplyStream = grpc.ServerWritableStream<HelloRequest, HelloReply>;
type BidiStream = grpc.ServerDuplexStream<HelloRequest, HelloReply>;

async function replyStream(call: ReplyStream): Promise<void> {
  const shape = parseStreamName(call.request.name);
  if (!shape) {
    call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "unknown stream workload" });
    return;
  }
  const message = reply(streamReply(shape.replyBytes));
  for (let i = 0; i < shape.replies && !call.cancelled; i++) {
    if (!call.write(message)) await once(call, "drain");
  }
  call.end();
}

function idleStream(call: ReplyStream | BidiStream): void {
  openCalls.opened();
  call.once("cancelled", () => openCalls.closed());
  call.write(reply(IDLE_REPLY));
}

const handlers: grpc.UntypedServiceImplementation = {
  sayHello: (
    call: grpc.ServerUnaryCall<HelloRequest, HelloReply>,
    callback: grpc.sendUnaryData<HelloReply>,
  ) => callback(null, reply(unaryReply(call.request.name))),
  sayHelloStreamReply: (call: ReplyStream) =>
    call.request.name === IDLE_NAME ? idleStream(call) : void replyStream(call),
  sayHelloBidiStream: (call: BidiStream) => {
    const replies = new BidiReplies();
    const send = (message: string | undefined) => message !== undefined && call.write(reply(message));
    call.on("data", ({ name }: HelloRequest) =>
      name === IDLE_NAME ? idleStream(call) : send(replies.to(name)),
    );
    call.on("end", () => {
      send(replies.atEnd());
      call.end();
    });
  },
};

const server = new grpc.Server();
server.addService(definition, handlers);
server.bindAsync(`127.0.0.1:${process.argv[2]}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
});
serveTheBench();
