// The faults the soak injects while its load runs, one at a time in turn: a backend that crashes and comes back,
// a backend that hangs, the malformed-input corpus, slow readers, and clients that leave mid-request.
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type BackendProcess, startBackendProcess } from "../proxy/test/support/backend-process.js";
import type { BackendKind } from "../proxy/test/support/backends.js";
import { isHead, loadCorpus, requestBytes } from "../proxy/test/support/corpus.js";
import { framedHelloRequest } from "../proxy/test/support/hello-messages.js";
import { RawHttpConnection } from "../proxy/test/support/raw-http.js";

/** A backend process that keeps its port across crashes, so the proxy in front of it need not change. */
export class RestartableBackend {
  #current: BackendProcess;
  readonly #kind: BackendKind;

  private constructor(kind: BackendKind, first: BackendProcess) {
    this.#kind = kind;
    this.#current = first;
  }

  static async start(kind: BackendKind): Promise<RestartableBackend> {
    return new RestartableBackend(kind, await startBackendProcess(kind));
  }

  get url(): string {
    return this.#current.url;
  }

  /** SIGKILL, then the same backend on the same port after `downMs`. */
  async crashAndRestart(downMs: number): Promise<void> {
    await this.#current.kill();
    await sleep(downMs);
    this.#current = await startBackendProcess(this.#kind, this.#current.port);
  }

  /** SIGSTOP for `ms`: its connections stay up and nothing answers; then SIGCONT. */
  async hang(ms: number): Promise<void> {
    process.kill(this.#current.pid, "SIGSTOP");
    await sleep(ms);
    process.kill(this.#current.pid, "SIGCONT");
  }

  stop(): Promise<void> {
    return this.#current.kill();
  }
}

export interface FaultTarget {
  readonly proxyPort: number;
  readonly backend: RestartableBackend;
}

interface Fault {
  readonly name: string;
  inject(target: FaultTarget): Promise<void>;
}

const STREAM = "/helloworld.Greeter/SayHelloStreamReply";

function rawRequest(path: string, extraHeaders: readonly string[], body: Buffer): Buffer {
  const head = [
    `POST ${path} HTTP/1.1`,
    "Host: soak.test",
    "Content-Type: application/grpc-web+proto",
    ...extraHeaders,
    `Content-Length: ${body.length}`,
  ];
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

export const FAULTS: readonly Fault[] = [
  {
    name: "backend crashed (SIGKILL), back after 1 s",
    inject: ({ backend }) => backend.crashAndRestart(1000),
  },
  {
    name: "backend hung for 2 s (SIGSTOP)",
    inject: ({ backend }) => backend.hang(2000),
  },
  {
    name: "malformed-input corpus",
    async inject({ proxyPort }) {
      for (const file of loadCorpus()) {
        for (const c of file.cases) {
          const connection = await RawHttpConnection.open(proxyPort);
          connection.send(requestBytes(c));
          await connection.readResponse(isHead(c)).catch(() => undefined);
          connection.destroy();
        }
      }
    },
  },
  {
    name: "5 slow readers of fast streams for 5 s",
    async inject({ proxyPort }) {
      const request = rawRequest(
        STREAM,
        ["x-stream-count: 100000", "x-reply-bytes: 65536"],
        framedHelloRequest("slow"),
      );
      const sockets = Array.from({ length: 5 }, () => {
        const socket = net.connect(proxyPort, "127.0.0.1");
        socket.on("error", () => {});
        socket.pause();
        socket.write(request);
        return socket;
      });
      for (let elapsed = 0; elapsed < 5000; elapsed += 100) {
        await sleep(100);
        for (const socket of sockets) socket.read(16 * 1024);
      }
      for (const socket of sockets) socket.destroy();
    },
  },
  {
    name: "50 clients gone halfway through their request",
    async inject({ proxyPort }) {
      const body = framedHelloRequest("gone");
      const whole = rawRequest("/helloworld.Greeter/SayHello", [], body);
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const connection = await RawHttpConnection.open(proxyPort);
          connection.send(whole.subarray(0, whole.length - 3));
          await sleep(20);
          connection.destroy();
        }),
      );
    },
  },
];

/** Injects the faults in turn, one every `everyMs`, until `until` (a Date.now() time); counts what it injected. */
export async function injectFaults(
  target: FaultTarget,
  until: number,
  everyMs: number,
): Promise<Map<string, number>> {
  const injected = new Map<string, number>();
  for (let i = 0; Date.now() + everyMs < until; i++) {
    await sleep(everyMs);
    const fault = FAULTS[i % FAULTS.length] as Fault;
    await fault.inject(target);
    injected.set(fault.name, (injected.get(fault.name) ?? 0) + 1);
  }
  return injected;
}
