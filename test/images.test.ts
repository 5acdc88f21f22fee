// The proxy image, built without Docker (test/support/dockerfile.ts replays its steps on this machine), then
// run as a container runs it: its entry point and default command, in front of a real gRPC backend, and
// its HEALTHCHECK against that process.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startGreeterServer } from "../demo-app/src/greeter/server.js";
import { freePort, waitFor } from "../testing/net.js";
import { execForm, last, type ReplayedImage, replayDockerfile } from "./support/dockerfile.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);

describe("proxy/Dockerfile, replayed", { timeout: 240_000 }, () => {
  let scratch = "";
  let image: ReplayedImage;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), "grpc-web-bridge-image-"));
    image = await replayDockerfile(root, "proxy/Dockerfile", scratch);
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  /** The container's command line with `args` in place of CMD, as `node …` on this machine. */
  const command = (args: readonly string[]) => {
    const [program, ...entry] = execForm(last(image.stage, "ENTRYPOINT") ?? "");
    assert.equal(program, "node");
    return [...entry, ...args];
  };

  test("the final image holds the built CLI and production dependencies only", () => {
    const modules = join(image.workdir, "node_modules");
    for (const dependency of Object.keys(
      JSON.parse(readFileSync(join(root, "proxy/package.json"), "utf8")).dependencies,
    )) {
      assert.ok(existsSync(join(modules, dependency)), `${dependency} installed`);
    }
    for (const devOnly of ["typescript", "@types/node", "@biomejs/biome", "tsx", "playwright-core"]) {
      assert.ok(!existsSync(join(modules, devOnly)), `${devOnly} left out`);
    }
    assert.ok(!existsSync(join(image.workdir, "proxy/src")), "no sources");
    assert.equal(image.env.NODE_ENV, "production");
  });

  test("the entry point is the CLI: flags after the image name replace the default command", async () => {
    const { stdout } = await run(process.execPath, command(["--help"]), { cwd: image.workdir });
    assert.match(stdout, /^Usage: grpc-web-bridge/m);
  });

  test("the default command serves the config file at its path, and the HEALTHCHECK asks its admin port", async (t) => {
    const greeter = await startGreeterServer({ host: "127.0.0.1", port: 0 });
    t.after(() => greeter.close());
    const [port, adminPort] = [await freePort(), await freePort()];
    // The default command names a file in the image's file system: the replay's stands in for it.
    const cmd = execForm(last(image.stage, "CMD") ?? "");
    const configPath = cmd[cmd.indexOf("--config") + 1] ?? assert.fail("CMD has --config");
    mkdirSync(join(image.root, configPath, ".."), { recursive: true });
    writeFileSync(
      join(image.root, configPath),
      `listen: 127.0.0.1:${port}\nadminListen: 127.0.0.1:${adminPort}\nupstream: ${greeter.url}\nlogLevel: warn\n`,
    );
    const args = cmd.map((arg) => (arg === configPath ? join(image.root, configPath) : arg));
    const proxy = spawn(process.execPath, command(args), {
      cwd: image.workdir,
      env: { ...process.env, ...image.env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const exited = once(proxy, "exit");
    t.after(async () => {
      if (proxy.exitCode === null) proxy.kill("SIGKILL");
      await exited;
    });
    // Ready once the backend is connected: the image's proxy reaches a real gRPC server.
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
          (r) => r.ok || undefined,
          () => undefined,
        ),
      15_000,
    );

    const [program, ...check] = execForm(last(image.stage, "HEALTHCHECK") ?? "");
    assert.equal(program, "node");
    const healthcheck = (pid: number) =>
      run(process.execPath, [...check, String(pid)], { cwd: image.workdir }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    assert.equal(await healthcheck(proxy.pid ?? 0), 0, "healthy while it serves");
    proxy.kill("SIGSTOP"); // alive, listening, but answering nothing
    assert.equal(await healthcheck(proxy.pid ?? 0), 1, "unhealthy when /healthz does not answer");
    proxy.kill("SIGCONT");
    proxy.kill("SIGTERM");
    assert.deepEqual(await exited, [0, null], "drains and exits 0 on SIGTERM");
  });
});
