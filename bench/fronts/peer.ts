// Setup B: the npm package @grpc-web/proxy (connect + cors + @grpc-web/middleware), bound to
// loopback (its own CLI listens on every interface). Usage: peer.ts <port> <upstream URL>
import grpcWebProxy from "@grpc-web/proxy";

const [, , port, upstream] = process.argv;
if (!upstream) throw new Error("usage: peer.ts <port> <upstream URL>");
grpcWebProxy({ target: upstream, origin: "*", headers: [] }).listen(Number(port), "127.0.0.1");
// Exit with the bench (see serveTheBench): the peer proxy has no Greeter calls of its own to count.
process.on("disconnect", () => process.exit(0));
