// Setup A: connect-node serving the Greeter as gRPC-Web over HTTP/1.1 itself, no hop.
// Usage: direct.ts <port>
import http from "node:http";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { greeterRoutes } from "../greeter/connect-routes.js";
import { serveTheBench } from "../greeter/open-calls.js";

const port = Number(process.argv[2]);
http.createServer(connectNodeAdapter({ routes: greeterRoutes })).listen(port, "127.0.0.1");
serveTheBench();
