import assert from "node:assert/strict";
import { test } from "node:test";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";

test("generated Greeter has the three helloworld methods", () => {
  assert.equal(Greeter.typeName, "helloworld.Greeter");
  assert.deepEqual(Object.keys(Greeter.method), ["sayHello", "sayHelloStreamReply", "sayHelloBidiStream"]);
});
