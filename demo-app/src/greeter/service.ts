import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type Greeter,
  type HelloReply,
  HelloReplySchema,
  type HelloRequest,
} from "@grpc-web-bridge/client-web/greeter";
import { greeting, requireName } from "./greeting.js";
import { echoMetadata, summaryTrailers } from "./metadata.js";
import { type CallObserver, observeReplies, observeReply } from "./observe.js";
import { streamOptions } from "./stream-options.js";

/** The Greeter service: every call echoes custom metadata as headers and ends with summary trailers. */
export function greeterService(observer: CallObserver = () => {}): ServiceImpl<typeof Greeter> {
  return {
    sayHello(request, context) {
      return observeReply("SayHello", context, observer, () => {
        const startedAt = performance.now();
        const name = requireName(request.name);
        echoMetadata(context.requestHeader, context.responseHeader);
        summaryTrailers(context.responseTrailer, 1, startedAt);
        return reply(greeting(name));
      });
    },
    sayHelloStreamReply(request, context) {
      return observeReplies("SayHelloStreamReply", context, observer, pacedGreetings(request, context));
    },
    sayHelloBidiStream(requests, context) {
      return observeReplies("SayHelloBidiStream", context, observer, greetEach(requests, context));
    },
  };
}

// The first reply goes out at once, the next ones `delayMs` apart. Waiting on the call's signal is
// what stops the work when the client cancels or its deadline passes.
async function* pacedGreetings(request: HelloRequest, context: HandlerContext): AsyncGenerator<HelloReply> {
  const startedAt = performance.now();
  const name = requireName(request.name);
  const { count, delayMs } = streamOptions(context.requestHeader);
  echoMetadata(context.requestHeader, context.responseHeader);
  for (let index = 1; index <= count; index++) {
    if (index > 1) await pause(delayMs, context.signal);
    yield reply(greeting(name, { index, count }));
  }
  summaryTrailers(context.responseTrailer, count, startedAt);
}

async function* greetEach(
  requests: AsyncIterable<HelloRequest>,
  context: HandlerContext,
): AsyncGenerator<HelloReply> {
  const startedAt = performance.now();
  echoMetadata(context.requestHeader, context.responseHeader);
  let replies = 0;
  for await (const request of requests) {
    yield reply(greeting(requireName(request.name)));
    replies++;
  }
  summaryTrailers(context.responseTrailer, replies, startedAt);
}

// Ends the wait as soon as the call is cut short, failing with the call's own reason (DEADLINE_EXCEEDED,
// CANCELLED) rather than the timer's AbortError, which would reach the client as INTERNAL.
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw ConnectError.from(signal.reason);
  }
}

function reply(message: string): HelloReply {
  return create(HelloReplySchema, { message });
}
