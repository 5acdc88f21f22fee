// The Greeter as connect-node routes: the HTTP/2 backend and the direct gRPC-Web server (setup A)
// run exactly this code.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { Greeter, HelloReplySchema, type HelloRequest } from "@grpc-web-bridge/client-web/greeter";
import { BidiReplies, IDLE_NAME, IDLE_REPLY, parseStreamName, streamReply, unaryReply } from "./contract.js";
import { openCalls } from "./open-calls.js";

export function greeterRoutes(router: ConnectRouter): void {
  router.service(Greeter, {
    sayHello: (request) => ({ message: unaryReply(request.name) }),
    sayHelloStreamReply: (request, context) =>
      request.name === IDLE_NAME ? idleStream(context) : replyStream(request.name),
    sayHelloBidiStream: bidiStream,
  });
}

async function* bidiStream(requests: AsyncIterable<HelloRequest>, context: HandlerContext) {
  const replies = new BidiReplies();
  for await (const { name } of requests) {
    if (name === IDLE_NAME) return yield* idleStream(context);
    const message = replies.to(name);
    if (message !== undefined) yield { message };
  }
  const message = replies.atEnd();
  if (message !== undefined) yield { message };
}

async function* replyStream(name: string) {
  const shape = parseStreamName(name);
  if (!shape) throw new ConnectError(`unknown stream workload "${name}"`, Code.InvalidArgument);
  const reply = create(HelloReplySchema, { message: streamReply(shape.replyBytes) });
  for (let i = 0; i < shape.replies; i++) yield reply;
}

async function* idleStream(context: HandlerContext) {
  openCalls.opened();
  try {
    yield { message: IDLE_REPLY };
    await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
  } finally {
    openCalls.closed();
  }
}
