// The test greeter on Python's C-core grpcio: greeter_server.py in a child process.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { file_helloworld_helloworld } from "@grpc-web-bridge/client-web/greeter";
import { dieWithTest } from "../../../testing/lifeline.js";
import type { Listener } from "./h2c-server.js";
import type { Observation, ObservationLog } from "./observations.js";

// Debian's python3-grpcio lives under /usr/bin/python3; the pyenv python3 on PATH has no grpc.
const PYTHON = process.env.GRPCIO_PYTHON ?? "/usr/bin/python3";
const SERVER_SCRIPT = fileURLToPath(new URL("./greeter_server.py", import.meta.url));
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 2_000;

/** The file descriptor protoc-gen-es embedded in the generated code, for the server's message classes. */
const helloworldDescriptor = Buffer.from(
  toBinary(FileDescriptorProtoSchema, file_helloworld_helloworld.proto),
).toString("base64");

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** How a grpcio greeter compresses: greeter_server.py's COMPRESSION_JSON. */
export interface GrpcioCompression {
  /** Compress replies to clients whose grpc-accept-encoding allows it. */
  readonly reply?: "gzip" | "deflate";
  /** The only request encodings it takes; others get UNIMPLEMENTED. */
  readonly accept?: ReadonlyArray<"identity" | "gzip" | "deflate">;
}

export async function startGrpcioBackend(
  log: ObservationLog,
  port = 0,
  compression: GrpcioCompression = {},
): Promise<Listener> {
  const args = [SERVER_SCRIPT, String(port), helloworldDescriptor, JSON.stringify(compression)];
  const child: Child = spawn(PYTHON, args, { stdio: ["pipe", "pipe", "pipe"] });
  // It also exits when its stdin closes, but not while stopped.
  dieWithTest(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    // Keep the tail for a start-up failure; grpcio's own warnings after that are noise.
    stderr = (stderr + chunk).slice(-4000);
  });
  try {
    const boundPort = await listening(child, log, () => stderr);
    return { port: boundPort, close: () => stop(child) };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

/** Resolves with the port from {"listening": port}; every other line is an observation. */
function listening(child: Child, log: ObservationLog, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`greeter_server.py did not start: ${stderr()}`)),
      START_TIMEOUT_MS,
    );
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`greeter_server.py exited (${code ?? signal}) before listening: ${stderr()}`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      const parsed = JSON.parse(line) as Observation | { listening: number };
      if ("listening" in parsed) {
        clearTimeout(timer);
        resolve(parsed.listening);
      } else {
        log.record(parsed);
      }
    });
  });
}

async function stop(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
