export * from "./gen/helloworld/helloworld_pb.js";
