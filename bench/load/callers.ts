// One call of the bench, over gRPC-Web (HTTP/1.1 keep-alive connections, binary or text) or over
// native gRPC (one HTTP/2 session). The response goes into a ResponseCheck, which decides success.
import http2 from "node:http2";
import { Pool } from "undici";
import { Base64TextDecoder } from "../wire/base64-text.js";
import type { ResponseCheck } from "../wire/response-check.js";

export interface Caller {
  /** Sends one request frame to `path`; resolves when the response has ended, failed or was cut. */
  call(path: string, requestFrame: Buffer, check: ResponseCheck): Promise<void>;
  close(): Promise<void>;
}

export interface CallerOptions {
  origin: string;
  protocol: "grpc-web" | "grpc";
  /** grpc-web-text instead of binary gRPC-Web. */
  text?: boolean;
  /** Keep-alive HTTP/1.1 connections (gRPC-Web only; native gRPC multiplexes on one session). */
  connections: number;
}

export function createCaller(options: CallerOptions): Caller {
  return options.protocol === "grpc" ? new NativeCaller(options.origin) : new WebCaller(options);
}

class WebCaller implements Caller {
  private readonly pool: Pool;
  private readonly text: boolean;
  private readonly headers: Record<string, string>;

  constructor({ origin, connections, text = false }: CallerOptions) {
    this.pool = new Pool(origin, { connections, pipelining: 1, bodyTimeout: 0, headersTimeout: 60_000 });
    this.text = text;
    const contentType = text ? "application/grpc-web-text" : "application/grpc-web+proto";
    this.headers = { "content-type": contentType, accept: contentType, "x-grpc-web": "1" };
  }

  async call(path: string, requestFrame: Buffer, check: ResponseCheck): Promise<void> {
    const body = this.text ? requestFrame.toString("base64") : requestFrame;
    try {
      const response = await this.pool.request({ path, method: "POST", headers: this.headers, body });
      if (response.statusCode !== 200) {
        check.failure ??= `HTTP ${response.statusCode}`;
        await response.body.dump();
        return;
      }
      if (!this.text) {
        for await (const chunk of response.body) check.push(chunk);
        return;
      }
      const decoder = new Base64TextDecoder();
      for await (const chunk of response.body) check.push(decoder.push((chunk as Buffer).toString("latin1")));
      if (!decoder.complete) check.failure ??= "text body ended inside a base64 group";
    } catch (error) {
      check.failure ??= `transport: ${(error as Error).message}`;
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

class NativeCaller implements Caller {
  private readonly session: http2.ClientHttp2Session;

  constructor(origin: string) {
    this.session = http2.connect(origin);
    // A failed session fails each call through its stream's own error event.
    this.session.on("error", () => {});
  }

  call(path: string, requestFrame: Buffer, check: ResponseCheck): Promise<void> {
    return new Promise((resolve) => {
      const stream = this.session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("response", (headers) => {
        if (headers[":status"] !== 200) check.failure ??= `HTTP ${headers[":status"]}`;
        check.trailers(grpcStatus(headers));
      });
      stream.on("data", (chunk: Buffer) => check.push(chunk));
      stream.on("trailers", (trailers) => check.trailers(grpcStatus(trailers)));
      stream.on("error", (error) => {
        check.failure ??= `transport: ${error.message}`;
      });
      stream.on("close", resolve);
      stream.end(requestFrame);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.session.destroy();
      resolve();
    });
  }
}

function grpcStatus(headers: http2.IncomingHttpHeaders): string | undefined {
  const status = headers["grpc-status"];
  return Array.isArray(status) ? status[0] : status;
}
