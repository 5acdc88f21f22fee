// An h2c upstream that answers every call with OK and keeps the request headers it got, so a test
// sees exactly which metadata the proxy forwarded (and whether a call was forwarded at all).
import type { IncomingHttpHeaders } from "node:http2";
import { type RawUpstream, startRawUpstream } from "./raw-upstream.js";

export interface EchoUpstream extends RawUpstream {
  /** The request headers of every call, in order of arrival. */
  readonly seen: IncomingHttpHeaders[];
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const seen: IncomingHttpHeaders[] = [];
  const upstream = await startRawUpstream((stream, headers) => {
    seen.push(headers);
    stream.resume();
    stream.on("end", () => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "0" },
        { endStream: true },
      );
    });
  });
  return Object.assign(upstream, { seen });
}
