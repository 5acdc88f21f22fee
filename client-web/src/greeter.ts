import { type ClientOptions, createWebClient, type WebClient } from "./client.js";
import { Greeter } from "./gen/helloworld/helloworld_pb.js";

export type GreeterClient = WebClient<typeof Greeter>;

/** A client for helloworld.Greeter: `sayHello` (unary) and `sayHelloStreamReply` (server streaming). */
export function createGreeterClient(options: ClientOptions): GreeterClient {
  return createWebClient(Greeter, options);
}
