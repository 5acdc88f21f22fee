// The demo's helloworld.Greeter, generated from protos/: a subpath of its own, so that the main entry
// carries no demo code. `createClient(Greeter, createGrpcWebTransport({ baseUrl }))` calls it.
export * from "./gen/helloworld/helloworld_pb.js";
