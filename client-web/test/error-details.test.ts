// The errorDetails interceptor: grpc-status-details-bin in an error's metadata becomes its details,
// for a unary call and for the error that ends a stream.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  encodeBinaryHeader,
} from "@connectrpc/connect";
import { Greeter, HelloReplySchema, HelloRequestSchema } from "../src/greeter.js";
import { errorDetails } from "../src/index.js";
import { failure } from "./support/failure.js";
import { statusBytes } from "./support/status-bytes.js";

const reply = toBinary(HelloReplySchema, create(HelloReplySchema, { message: "ask Grace" }));
const request = toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: "a" }));
const details = statusBytes(Code.PermissionDenied, "not you", [
  { typeUrl: "type.googleapis.com/helloworld.HelloReply", value: reply },
  { typeUrl: "type.googleapis.com/helloworld.HelloRequest", value: request },
]);

/** A greeter whose every call fails PERMISSION_DENIED with `detailsBin` as grpc-status-details-bin. */
function failingGreeter(detailsBin: string) {
  const fail = () => {
    throw new ConnectError("not you", Code.PermissionDenied, { "grpc-status-details-bin": detailsBin });
  };
  const transport = createRouterTransport(
    ({ service }) => {
      service(Greeter, {
        sayHello: fail,
        async *sayHelloStreamReply() {
          yield { message: "first" };
          fail();
        },
      });
    },
    { transport: { interceptors: [errorDetails] } },
  );
  return createClient(Greeter, transport);
}

test("grpc-status-details-bin becomes details that findDetails decodes, by type", async () => {
  const client = failingGreeter(encodeBinaryHeader(details));
  const unary = await failure(client.sayHello({ name: "a" }));
  const streamed = await failure(client.sayHelloStreamReply({ name: "a" }));
  for (const error of [unary, streamed]) {
    assert.equal(error.code, Code.PermissionDenied);
    assert.deepEqual(
      error.findDetails(HelloReplySchema).map((d) => d.message),
      ["ask Grace"],
    );
    assert.deepEqual(
      error.findDetails(HelloRequestSchema).map((d) => d.name),
      ["a"],
    );
  }
});

test("garbled details do not hide the status", async () => {
  const error = await failure(failingGreeter("%%%").sayHello({ name: "a" }));
  assert.equal(error.code, Code.PermissionDenied);
  assert.equal(error.rawMessage, "not you");
  assert.deepEqual(error.details, []);
});
