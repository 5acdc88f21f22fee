// gzip_greeter.py in a child process: the grpcio test greeter, compressing its replies.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { dieWithTest } from "../../../testing/lifeline.js";
import { file_helloworld_helloworld } from "../../src/greeter.js";

const PYTHON = process.env.GRPCIO_PYTHON ?? "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./gzip_greeter.py", import.meta.url));

export interface GzipBackend {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts it taking requests in `accept` encodings only (others get UNIMPLEMENTED). */
export async function startGzipGrpcioBackend(accept: readonly ("identity" | "gzip")[]): Promise<GzipBackend> {
  const descriptor = Buffer.from(toBinary(FileDescriptorProtoSchema, file_helloworld_helloworld.proto));
  const child = spawn(PYTHON, [SCRIPT, descriptor.toString("base64"), accept.join(",")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  dieWithTest(child);
  const exited = once(child, "exit");
  const port = await new Promise<number>((resolve, reject) => {
    exited.then(() =>
      reject(new Error(`gzip_greeter.py exited before listening (${child.exitCode ?? child.signalCode})`)),
    );
    // Every line after {"listening": port} is an observation, not needed here: read and dropped.
    createInterface({ input: child.stdout }).on("line", (line) => {
      const { listening } = JSON.parse(line) as { listening?: number };
      if (listening !== undefined) resolve(listening);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
