// gRPC over WebSocket load (the grpc-websockets protocol of improbable's client, docs/websocket.md), for the setups
// that speak it: one call per socket, the metadata first, each request frame as a data message, then finished
// sending. The first server message is the response headers (a 0x80 frame of its own); the rest are the gRPC-Web
// response body, checked as over HTTP.
import { once } from "node:events";
import WebSocket from "ws";
import {
  countedName,
  countedReply,
  paths,
  type StreamShape,
  streamName,
  streamReply,
} from "../greeter/contract.js";
import type { CpuMeter } from "../procs/usage.js";
import { helloReplyPayload, helloRequestFrame, TRAILER_FLAG } from "../wire/frames.js";
import { type Expectation, ResponseCheck } from "../wire/response-check.js";
import { type IdlePlan, idleReply, idleRequestFrame } from "./idle.js";
import { meterCalls, type StreamResult } from "./streams.js";

const METADATA = Buffer.from("content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\n", "latin1");
const DATA = Buffer.from([0]);
const FINISHED = Buffer.from([1]);
/** Past this many unsent bytes a streaming caller waits for the socket, so a long stream is not all in memory. */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;

export interface WebSocketPlan {
  path: string;
  requestFrame: Buffer;
  expect: Expectation;
  /** Calls at once, each on its own socket. */
  concurrency: number;
  /** Requests per call: all sent at once ("stream"), or each after the previous reply ("ping-pong"). */
  requests: number;
  sending: "stream" | "ping-pong";
}

/** Runs `concurrency` calls of `plan` and meters them; counts the replies of the calls that verified. */
export async function runWebSocketCalls(
  origin: string,
  plan: WebSocketPlan,
  meter: CpuMeter,
): Promise<StreamResult> {
  const url = `${origin.replace(/^http/, "ws")}${plan.path}`;
  const sockets = await Promise.all(Array.from({ length: plan.concurrency }, () => openSocket(url)));
  const checks = sockets.map(() => new ResponseCheck(plan.expect));
  return meterCalls(checks, meter, (check, i) => call(sockets[i] as WebSocket, plan, check));
}

/** Server streams over WebSocket, one request each: `replies` replies of `replyBytes` bytes, every one checked. */
export function serverStreamPlan(shape: StreamShape, concurrency: number): WebSocketPlan {
  return {
    path: paths.serverStream,
    requestFrame: helloRequestFrame(streamName(shape)),
    expect: { payload: helloReplyPayload(streamReply(shape.replyBytes)), messages: shape.replies },
    concurrency,
    requests: 1,
    sending: "stream",
  };
}

/**
 * A one-way client stream per call: `requests` requests of `requestBytes` of name, which the Greeter counts
 * without answering, and one reply with their count when the stream ends.
 */
export function clientStreamPlan(requests: number, requestBytes: number, concurrency: number): WebSocketPlan {
  return {
    path: paths.bidiStream,
    requestFrame: helloRequestFrame(countedName(requestBytes)),
    expect: { payload: helloReplyPayload(countedReply(requests)), messages: 1 },
    concurrency,
    requests,
    sending: "stream",
  };
}

/**
 * Idle bidi calls, one socket each: each sends its one request (answered once) and never finishes sending,
 * so both directions stay open upstream; closing goes away from them as a browser tab does.
 */
export function openIdleWebSocketCalls(origin: string): IdlePlan["open"] {
  return async (count, onFirstReply) => {
    const url = `${origin.replace(/^http/, "ws")}${paths.bidiStream}`;
    const sockets = await Promise.all(Array.from({ length: count }, () => openSocket(url)));
    for (const socket of sockets) {
      const check = new ResponseCheck(idleReply, onFirstReply);
      let headers = true;
      socket.on("message", (data: Buffer) => {
        if (headers) headers = false;
        else check.push(data);
      });
      socket.send(METADATA);
      socket.send(Buffer.concat([DATA, idleRequestFrame]));
    }
    return {
      async close() {
        const closed = sockets.map((socket) => once(socket, "close"));
        for (const socket of sockets) socket.close();
        await Promise.all(closed);
      },
    };
  };
}

async function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, ["grpc-websockets"], { perMessageDeflate: false });
  await once(socket, "open");
  return socket;
}

async function call(socket: WebSocket, plan: WebSocketPlan, check: ResponseCheck): Promise<void> {
  const closed = once(socket, "close");
  let replied: () => void = () => {};
  let headers = true;
  socket.on("message", (data: Buffer) => {
    if (headers) {
      headers = false;
      if (data[0] !== TRAILER_FLAG) check.failure ??= "the first server message is not the headers frame";
      return;
    }
    check.push(data);
    // Any reply, right or wrong, lets a ping-pong call go on: the check keeps the verdict.
    replied();
  });
  const data = Buffer.concat([DATA, plan.requestFrame]);
  socket.send(METADATA);
  for (let i = 0; i < plan.requests; i++) {
    const reply =
      plan.sending === "ping-pong" ? new Promise<void>((resolve) => (replied = resolve)) : undefined;
    if (socket.bufferedAmount < SEND_HIGH_WATER_BYTES) socket.send(data);
    else await new Promise((written) => socket.send(data, written));
    if (reply) await Promise.race([reply, closed]);
  }
  socket.send(FINISHED);
  await closed;
}
