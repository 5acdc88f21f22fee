// The two packages installed the way a user installs them: packed to tarballs, installed into a fresh
// project outside this repository with their dependencies from the registry, then used as the README's
// quick starts say: the CLI in front of a real gRPC backend, code generated from a .proto of this test's
// own with the README's buf.gen.yaml, a page built by Vite, and that page in headless Chromium.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readdirSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Browser } from "playwright-core";
import { launchChromium } from "../testing/browser.js";
import { freePort, waitFor } from "../testing/net.js";
import { readmeQuickStart } from "./support/readme.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);

// The test's own service, not the greeter: one unary and one server-streaming method.
const ORDERS_PROTO = `syntax = "proto3";

package shop.v1;

message GetOrderRequest {
  string id = 1;
}

message Order {
  string id = 1;
  string status = 2;
}

message WatchOrderRequest {
  string id = 1;
}

service OrderService {
  rpc GetOrder(GetOrderRequest) returns (Order);
  rpc WatchOrder(WatchOrderRequest) returns (stream Order);
}
`;
const STATUSES = ["packed", "shipped", "delivered"];

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>orders</title><script type="module" src="/src/main.ts"></script></head>
  <body></body>
</html>
`;

/** True when a source file of the package is newer than its build. */
function isStale(pkg: string): boolean {
  const built = statSync(join(pkg, "dist/index.js"), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return readdirSync(join(pkg, "src"), { recursive: true, withFileTypes: true }).some(
    (entry) => entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > built,
  );
}

/** A folder with the package.json of a new project. */
async function emptyProject(dir: string): Promise<string> {
  await mkdir(dir);
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "app", private: true, type: "module" })}\n`,
  );
  return dir;
}

/** A command in the project, as a user types it; rejects with its output when it fails. */
async function sh(cwd: string, command: string, timeout = 90_000): Promise<string> {
  try {
    const { stdout, stderr } = await run("sh", ["-c", command], { cwd, timeout, maxBuffer: 16 << 20 });
    return stdout + stderr;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`\`${command}\` failed in ${cwd}:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** A long-running command of the project; `stop` ends it with SIGTERM and waits for its exit. */
function start(cwd: string, file: string, args: readonly string[]): Running {
  const child = spawn(file, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  const exited = once(child, "exit");
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A native gRPC (h2c) backend for the test's .proto, described by what `buf build` compiles from it. */
async function startOrdersBackend(descriptorSet: Uint8Array): Promise<{ url: string; server: Http2Server }> {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const service = registry.getService("shop.v1.OrderService");
  assert.ok(service, "buf build compiled shop.v1.OrderService");
  // Typed by reflection, not by generated code, so the implementation is checked by the calls below instead.
  const orders = {
    getOrder: (request: { id: string }) => ({ id: request.id, status: "shipped" }),
    async *watchOrder(request: { id: string }) {
      for (const status of STATUSES) yield { id: request.id, status };
    },
  } as unknown as ServiceImpl<typeof service>;
  const handler = connectNodeAdapter({
    routes: (router) => router.service(service, orders),
    grpc: true,
    grpcWeb: false,
    connect: false,
  });
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("the packed packages, installed in a fresh project as the README says", { timeout: 240_000 }, () => {
  const quickStart = readmeQuickStart();
  let scratch = "";
  let app = "";
  // Where the proxy is installed apart from the page, as `npx grpc-web-bridge` installs it.
  let proxyHome = "";
  const cleanups: Array<() => Promise<unknown>> = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "grpc-web-bridge-packed-"));
    assert.ok(!scratch.startsWith(root), "outside the workspace");
    // What the tarballs hold is what the sources build to now, not an older dist/.
    const stale = ["proxy", "client-web"].filter((pkg) => isStale(join(root, pkg)));
    if (stale.length > 0)
      await sh(root, `npm run build ${stale.map((pkg) => `--workspace ${pkg}`).join(" ")}`, 180_000);
    const packed = JSON.parse(
      await sh(
        root,
        `npm pack --workspace proxy --workspace client-web --ignore-scripts --json --pack-destination ${scratch}`,
      ),
    ) as Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
    const tarballs = new Map(packed.map((p) => [p.name, join(scratch, p.filename)]));
    for (const pkg of packed) {
      const paths = pkg.files.map((f) => f.path);
      for (const file of ["README.md", "LICENSE", "package.json"])
        assert.ok(paths.includes(file), `${pkg.name}: ${file}`);
      assert.ok(!paths.some((p) => p.startsWith("test/")), `${pkg.name} ships no tests`);
    }

    const tarball = (name: string) => tarballs.get(name) ?? assert.fail(`packed ${name}`);
    proxyHome = await emptyProject(join(scratch, "proxy"));
    app = await emptyProject(join(scratch, "app"));
    await Promise.all([
      sh(proxyHome, `npm install ${tarball("grpc-web-bridge")} --no-audit --no-fund`, 120_000),
      (async () => {
        // The README's installs, with this checkout's tarball in place of the registry's package.
        for (const install of quickStart.installs) {
          const command = install.replace(/(?<=\s)@grpc-web-bridge\/client-web(?=\s|$)/g, tarball);
          await sh(app, `${command} --no-audit --no-fund`, 120_000);
        }
        // The app's own bundler, which the README leaves to the user.
        await sh(app, "npm install --save-dev vite --no-audit --no-fund", 120_000);
      })(),
    ]);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test("npx grpc-web-bridge --help prints the usage", async () => {
    const help = await sh(proxyHome, "npx grpc-web-bridge --help");
    assert.match(help, /^Usage: grpc-web-bridge --upstream URL/m);
    assert.match(help, /--allowed-origin/);
  });

  test("the quick start's code, built with Vite, calls a real gRPC backend through the installed proxy from Chromium", async () => {
    // (b) codegen for the test's own .proto with the README's buf.gen.yaml, as the README runs it.
    await mkdir(join(app, "proto/shop/v1"), { recursive: true });
    await writeFile(join(app, "proto/shop/v1/orders.proto"), ORDERS_PROTO);
    await writeFile(join(app, "buf.gen.yaml"), quickStart.bufGenYaml);
    await sh(app, quickStart.generate);
    const generated = await readFile(join(app, "src/gen/shop/v1/orders_pb.ts"), "utf8");
    assert.match(generated, /export const OrderService/);

    // (a) a real gRPC backend, and the installed CLI in front of it as the quick start starts it.
    const descriptorSet = join(scratch, "orders.binpb");
    await sh(app, `npx buf build proto -o ${descriptorSet}`);
    const backend = await startOrdersBackend(await readFile(descriptorSet));
    cleanups.push(() => new Promise((resolve) => backend.server.close(resolve)));
    const [proxyPort, pagePort] = [await freePort(), await freePort()];
    const pageOrigin = `http://127.0.0.1:${pagePort}`;
    const proxyArgs = quickStart.proxyArgs({
      upstream: backend.url,
      allowedOrigin: pageOrigin,
      listen: `127.0.0.1:${proxyPort}`,
    });
    // What `npx grpc-web-bridge` runs, started directly so that stopping it stops the proxy itself.
    const proxy = start(proxyHome, join(proxyHome, "node_modules/.bin/grpc-web-bridge"), proxyArgs);
    cleanups.push(() => proxy.stop());
    await waitFor(() => (/proxying gRPC-Web on/.test(proxy.output()) ? true : undefined), 15_000).catch(
      (error: unknown) => {
        throw new Error(`the proxy did not start:\n${proxy.output()}`, { cause: error });
      },
    );

    // (c) the page: the quick start's client code as its module, bundled by Vite.
    await writeFile(join(app, "index.html"), INDEX_HTML);
    await writeFile(join(app, "src/main.ts"), quickStart.clientCode(`http://127.0.0.1:${proxyPort}`));
    await sh(app, "npx vite build --logLevel warn");
    const preview = start(app, join(app, "node_modules/.bin/vite"), [
      "preview",
      "--host",
      "127.0.0.1",
      "--port",
      String(pagePort),
      "--strictPort",
    ]);
    cleanups.push(() => preview.stop());
    await waitFor(
      () =>
        fetch(pageOrigin).then(
          (r) => r.ok || undefined,
          () => undefined,
        ),
      15_000,
    );

    // (d) the page in Chromium: what it logs is what the backend answered.
    const browser: Browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const logged: string[] = [];
    const problems: string[] = [];
    page.on("console", (message) => (message.type() === "log" ? logged : problems).push(message.text()));
    page.on("pageerror", (error) => problems.push(String(error)));
    await page.goto(pageOrigin);
    await waitFor(() => (logged.length >= 4 || problems.length > 0 ? true : undefined), 15_000).catch(
      () => undefined,
    );
    assert.deepEqual(problems, [], `the page failed; proxy log:\n${proxy.output()}`);
    assert.deepEqual(logged, ["shipped", ...STATUSES]);
    // Both calls went through the installed proxy: its access log (buffered a moment) has one line each.
    const calls = [
      /"path":"\/shop\.v1\.OrderService\/GetOrder".*"grpcCode":"OK"/,
      /"path":"\/shop\.v1\.OrderService\/WatchOrder".*"grpcCode":"OK"/,
    ];
    await waitFor(() => (calls.every((call) => call.test(proxy.output())) ? true : undefined), 5000).catch(
      () => assert.fail(`no access log line for both calls:\n${proxy.output()}`),
    );
  });
});
