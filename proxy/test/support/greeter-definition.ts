// helloworld.Greeter for @grpc/grpc-js, built by hand (no proto-loader, no protoc): paths and
// streaming kinds from the generated descriptors, bytes through @bufbuild/protobuf.
import {
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { MethodDefinition } from "@grpc/grpc-js";
import {
  Greeter,
  type HelloReply,
  HelloReplySchema,
  type HelloRequest,
  HelloRequestSchema,
} from "@grpc-web-bridge/client-web/greeter";

export const greeterDefinition = {
  SayHello: methodDefinition(Greeter.method.sayHello),
  SayHelloStreamReply: methodDefinition(Greeter.method.sayHelloStreamReply),
  SayHelloBidiStream: methodDefinition(Greeter.method.sayHelloBidiStream),
} as const;

function methodDefinition(method: DescMethod): MethodDefinition<HelloRequest, HelloReply> {
  return {
    path: `/${Greeter.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: serializer(HelloRequestSchema),
    requestDeserialize: deserializer(HelloRequestSchema),
    responseSerialize: serializer(HelloReplySchema),
    responseDeserialize: deserializer(HelloReplySchema),
  };
}

function serializer<Desc extends DescMessage>(schema: Desc): (message: MessageShape<Desc>) => Buffer {
  return (message) => {
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => fromBinary(schema, bytes);
}
