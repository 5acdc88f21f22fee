// HelloRequest and HelloReply bytes for tests that speak the wire format themselves.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { HelloReplySchema, HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
import { frame } from "./chunks.js";

export function helloRequest(name: string): Uint8Array {
  return toBinary(HelloRequestSchema, create(HelloRequestSchema, { name }));
}

/** A HelloRequest as one uncompressed gRPC frame. */
export function framedHelloRequest(name: string): Buffer {
  return frame(0, Buffer.from(helloRequest(name)));
}

/** The `message` of each HelloReply, e.g. of a grpcWebCall result's messages. */
export function helloReplies(messages: ReadonlyArray<{ data: Uint8Array }>): string[] {
  return messages.map((m) => fromBinary(HelloReplySchema, m.data).message);
}
