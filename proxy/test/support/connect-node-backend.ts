// The test greeter on @connectrpc/connect-node: gRPC over h2c for the proxy, and gRPC-Web over
// HTTP/1.1 as a reference server for the raw gRPC-Web client.
import http from "node:http";
import http2, { type Http2ServerResponse } from "node:http2";
import { type Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Greeter } from "@grpc-web-bridge/client-web/greeter";
import { type GreeterPlan, type MetadataEntries, planGreeting } from "./greeter-plan.js";
import { bidiGreetings, GreeterFailure, streamGreetings, unaryGreeting } from "./greetings.js";
import { type H2cListener, type Listener, listenH2c, listenHttp1 } from "./h2c-server.js";
import { type ObservationLog, observed, observedReply } from "./observations.js";
import { requestMetadata } from "./request-metadata.js";
import { trailersOnlyWhenBodyless } from "./trailers-only.js";

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** gRPC over h2c, on the Trailers-Only wire that grpc-js and grpcio use for calls with no message. */
export function startConnectNodeBackend(log: ObservationLog, port = 0): Promise<H2cListener> {
  const adapter = connectNodeAdapter({
    // grpc-js and grpcio refuse requests over 4 MiB by default; connect-node would take 4 GiB.
    readMaxBytes: MAX_REQUEST_BYTES,
    grpc: true,
    grpcWeb: false,
    connect: false,
    routes: greeter(log),
    // Served over HTTP/2 only, so the response is always an Http2ServerResponse.
    fallback: (_req, res) => unknownMethod(res as Http2ServerResponse),
  });
  const server = http2.createServer((req, res) => {
    trailersOnlyWhenBodyless(res);
    adapter(req, res);
  });
  return listenH2c(server, port);
}

/** gRPC-Web over HTTP/1.1, straight from connect-node, no proxy in between. Binary only: connect-node
 * answers application/grpc-web-text with 415 (see grpc-web-text-relay.ts). */
export function startConnectGrpcWebServer(log: ObservationLog): Promise<Listener & { url: string }> {
  return listenHttp1(
    http.createServer(
      connectNodeAdapter({ grpc: false, grpcWeb: true, connect: false, routes: greeter(log) }),
    ),
  );
}

function greeter(log: ObservationLog) {
  return (router: ConnectRouter) =>
    router.service(Greeter, {
      sayHello(request, context) {
        const { plan, end } = begin(log, "SayHello", context);
        const reply = unaryGreeting(plan, request.name, context.signal);
        return observedReply(end, reply, context.signal).then(
          (message) => ({ message }),
          (error) => {
            throw connectError(error);
          },
        );
      },
      async *sayHelloStreamReply(request, context) {
        const { plan, end } = begin(log, "SayHelloStreamReply", context);
        const replies = streamGreetings(plan, request.name, context.signal);
        try {
          for await (const message of observed(end, replies, context.signal)) yield { message };
        } catch (error) {
          throw connectError(error);
        }
      },
      async *sayHelloBidiStream(requests, context) {
        const { end } = begin(log, "SayHelloBidiStream", context);
        for await (const message of observed(end, bidiGreetings(requests), context.signal)) yield { message };
      },
    });
}

/** Records the start, and sets the echo headers and trailers (connect sends them at the right time). */
function begin(log: ObservationLog, method: string, context: HandlerContext) {
  const metadata = requestMetadata(context.requestHeader);
  const plan: GreeterPlan = planGreeting(metadata);
  setAll(context.responseHeader, plan.headers);
  setAll(context.responseTrailer, plan.trailers);
  return { plan, end: log.begin(method, metadata, context.timeoutMs()) };
}

function setAll(headers: Headers, entries: MetadataEntries): void {
  for (const [key, value] of entries)
    headers.set(key, typeof value === "string" ? value : value.toString("base64"));
}

function connectError(error: unknown): unknown {
  return error instanceof GreeterFailure ? new ConnectError(error.message, error.code as Code) : error;
}

/** An unknown method: UNIMPLEMENTED as Trailers-Only, like grpc-js and grpcio (connect-node says 404). */
function unknownMethod(res: Http2ServerResponse): void {
  res.writeHead(200, {
    "content-type": "application/grpc",
    "grpc-status": "12",
    "grpc-message": "unknown method",
  });
  res.end();
}
