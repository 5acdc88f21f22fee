// Page script: calls any method with @improbable-eng/grpc-web's client over its WebsocketTransport, a client the
// project did not write. Messages are opaque bytes here: the runtime only calls serializeBinary on a request and
// deserializeBinary on a reply's bytes.
import { grpc } from "@improbable-eng/grpc-web";
import type {
  WebSocketCallOutcome,
  WebSocketCallRequest,
  WebSocketPageGlobals,
} from "./websocket-page-api.js";

/** A message as the runtime sees one: bytes in, bytes out. */
class RawMessage {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array = new Uint8Array(0)) {
    this.bytes = bytes;
  }

  static deserializeBinary(bytes: Uint8Array): RawMessage {
    return new RawMessage(bytes);
  }

  serializeBinary(): Uint8Array {
    return this.bytes;
  }

  toObject(): object {
    return {};
  }
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const BASE64_SLICE = 0x8000; // under every engine's limit on call arguments

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let at = 0; at < bytes.length; at += BASE64_SLICE) {
    binary += String.fromCharCode(...bytes.subarray(at, at + BASE64_SLICE));
  }
  return btoa(binary);
}

function entries(metadata: grpc.Metadata): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  metadata.forEach((name, values) => {
    result[name] = values;
  });
  return result;
}

function call(request: WebSocketCallRequest): Promise<WebSocketCallOutcome> {
  const outcome: WebSocketCallOutcome = { headers: {}, replies: [], trailers: {} };
  const method = {
    methodName: request.method,
    service: { serviceName: request.service },
    requestStream: request.requestStream,
    responseStream: request.responseStream,
    requestType: RawMessage,
    responseType: RawMessage,
  };
  const client = grpc.client<RawMessage, RawMessage, typeof method>(method, {
    host: request.host,
    transport: grpc.WebsocketTransport(),
  });
  const sending = request.sending ?? "all";
  const pending = request.requests.map((text) => new RawMessage(fromBase64(text)));
  const sendNext = () => {
    const next = pending.shift();
    if (next !== undefined) client.send(next);
    else if (sending === "ping-pong") client.finishSend();
  };
  return new Promise((resolve) => {
    client.onHeaders((headers) => {
      outcome.headers = entries(headers);
    });
    client.onMessage((reply) => {
      outcome.replies.push({ base64: toBase64(reply.bytes), at: performance.now() });
      if (outcome.replies.length === request.cancelAfterReplies) {
        client.close();
        resolve(outcome);
        return;
      }
      if (sending === "ping-pong") sendNext();
    });
    client.onEnd((code, message, trailers) => {
      outcome.status = { code, message };
      outcome.trailers = entries(trailers);
      resolve(outcome);
    });
    client.start(new grpc.Metadata(request.metadata));
    if (sending === "ping-pong") {
      sendNext();
      return;
    }
    while (pending.length > 0) sendNext();
    if (sending === "all") client.finishSend();
  });
}

const globals: WebSocketPageGlobals = { websocketInterop: { call } };
Object.assign(globalThis, globals);
