// The HTTP/2 (h2c) Greeter backend on connect-node. Usage: connect-backend.ts <port>
import http2 from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { greeterRoutes } from "./connect-routes.js";
import { serveTheBench } from "./open-calls.js";

const port = Number(process.argv[2]);
http2.createServer(connectNodeAdapter({ routes: greeterRoutes })).listen(port, "127.0.0.1");
serveTheBench();
