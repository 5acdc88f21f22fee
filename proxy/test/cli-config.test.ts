import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { freePort, waitFor } from "../../testing/net.js";
import { parseCli } from "../src/cli/arguments.js";
import { cliError as error, cliConfig as run } from "./support/parse-cli.js";

const upstream = ["--upstream", "http://127.0.0.1:50051"];

describe("CLI flags", () => {
  test("defaults: 127.0.0.1:8080, same-origin only, info logs", () => {
    const config = run(upstream);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 8080);
    assert.equal(config.logLevel, "info");
    assert.equal(config.proxy.allowedOrigins, undefined);
    assert.equal(config.proxy.maxTimeout, undefined);
  });

  test("every flag is read", () => {
    const config = run([
      ...upstream,
      "--listen",
      "[::1]:9000",
      "--allowed-origin",
      "http://a.test",
      "--allowed-origin",
      "*",
      "--max-timeout",
      "5m",
      "--max-message-bytes",
      "1024",
      "--log-level",
      "warn",
    ]);
    assert.equal(config.host, "::1");
    assert.equal(config.port, 9000);
    assert.deepEqual(config.proxy.allowedOrigins, ["http://a.test", "*"]);
    assert.equal(config.proxy.maxTimeout, "5m");
    assert.equal(config.proxy.maxMessageBytes, 1024);
    assert.equal(config.logLevel, "warn");
  });

  test("environment variables stand in for absent flags, and flags win", () => {
    const env = {
      GRPC_WEB_BRIDGE_UPSTREAM: "http://10.0.0.1:1",
      GRPC_WEB_BRIDGE_LISTEN: "0.0.0.0:80",
      GRPC_WEB_BRIDGE_ALLOWED_ORIGINS: "http://a.test, http://b.test",
      GRPC_WEB_BRIDGE_MAX_TIMEOUT: "30s",
    };
    const config = run(["--listen", "127.0.0.1:81"], env);
    assert.equal(config.proxy.upstream, "http://10.0.0.1:1");
    assert.equal(config.port, 81);
    assert.deepEqual(config.proxy.allowedOrigins, ["http://a.test", "http://b.test"]);
    assert.equal(config.proxy.maxTimeout, "30s");
  });

  for (const [argv, flag] of [
    [[], "--upstream"],
    [["--upstream", "ftp://x"], "--upstream"],
    [[...upstream, "--listen", "8080"], "--listen"],
    [[...upstream, "--listen", "h:99999"], "--listen"],
    [[...upstream, "--allowed-origin", "http://a.test/path"], "--allowed-origin"],
    [[...upstream, "--max-timeout", "soon"], "--max-timeout"],
    [[...upstream, "--max-timeout", "0s"], "--max-timeout"],
    [[...upstream, "--max-message-bytes", "0"], "--max-message-bytes"],
    [[...upstream, "--log-level", "loud"], "--log-level"],
  ] as const) {
    test(`a bad value names its flag: ${argv.slice(-2).join(" ") || "(nothing)"}`, () => {
      assert.match(error([...argv]), new RegExp(`^${flag}: `));
    });
  }

  test("an unknown flag is an error", () => {
    assert.match(error([...upstream, "--nope"]), /nope/);
  });

  test("an unknown flag names the flag it was likely meant to be", () => {
    assert.equal(
      error(["--upstrem", "http://127.0.0.1:1"]).split("\n")[0],
      "--upstrem: unknown flag (did you mean --upstream?)",
    );
  });

  test("an upstream without a scheme says so, and what to write", () => {
    assert.equal(
      error(["--upstream", "localhost:50051"]),
      "--upstream: missing the scheme: try http://localhost:50051 (h2c) or https://localhost:50051 (TLS)",
    );
  });

  test("a duration without a unit is refused with the fix, from a flag or a variable named as such", () => {
    assert.equal(error([...upstream, "--max-timeout", "30"]), "--max-timeout: add a unit: 30s or 30ms");
    assert.equal(
      error(upstream, { GRPC_WEB_BRIDGE_MAX_TIMEOUT: "5" }),
      "$GRPC_WEB_BRIDGE_MAX_TIMEOUT: add a unit: 5s or 5ms",
    );
  });

  test("a variable of the proxy's prefix that no setting reads is an error", () => {
    assert.equal(
      error(upstream, { GRPC_WEB_BRIDGE_MAX_TIMEOT: "5s" }),
      '$GRPC_WEB_BRIDGE_MAX_TIMEOT: unknown variable (did you mean "GRPC_WEB_BRIDGE_MAX_TIMEOUT"?)',
    );
  });

  test("every problem of the flags, the environment and the file comes in one run, each naming its source", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-problems-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "bridge.yaml");
    writeFileSync(
      file,
      [
        "listen: nowhere", //                              1: a bad value
        "maxTimeout: 30", //                               2: no unit, and a flag overrides it
        "logLevl: info", //                                3: an unknown key
        "workers: 0", //                                   4
        "upstreams:", //                                   5
        "  a: { addresses: [localhost:1] }", //            6: no scheme
        "  b: { addresses: [http://127.0.0.1:2], keepaliveInterval: 1 }", // 7
        "routes:", //                                      8
        "  - { match: a.*, upstream: c }", //              9: no such upstream
      ].join("\n"),
    );
    const problems = parseCli(
      ["--check-config", file, "--max-timeout", "1m", "--nope", "--max-message-bytes", "many"],
      { GRPC_WEB_BRIDGE_DRAIN_TIMEOUT: "10" },
    );
    assert.equal(problems.kind, "error");
    assert.deepEqual(problems.kind === "error" && problems.message.split("\n"), [
      "--nope: unknown flag (see --help)",
      '--max-message-bytes: expected a positive whole number, got "many"',
      "$GRPC_WEB_BRIDGE_DRAIN_TIMEOUT: add a unit: 10s or 10ms",
      `${file}:1:9: listen: expected HOST:PORT, got "nowhere"`,
      `${file}:2:13: maxTimeout: add a unit: 30s or 30ms`,
      `${file}:3:1: logLevl: unknown key (did you mean "logLevel"?)`,
      `${file}:4:10: workers: expected a positive whole number or "auto", got 0`,
      `${file}:6:20: upstreams.a.addresses[0]: missing the scheme: try http://localhost:1 (h2c) or https://localhost:1 (TLS)`,
      `${file}:7:60: upstreams.b.keepaliveInterval: add a unit: 1s or 1ms`,
      `${file}:9:29: routes[0].upstream: no upstream named "c" (upstreams: a, b)`,
    ]);
  });

  test("--help and --version", () => {
    assert.deepEqual(parseCli(["--version"], {}), { kind: "version" });
    const help = parseCli(["--help"], {});
    assert.ok(help.kind === "help" && help.text.includes("--max-timeout DURATION"));
  });
});

describe("the built CLI (proxy/dist/cli.js, the package's bin)", () => {
  const cli = builtCli();
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });

  test("prints --help and --version, and fails fast with one line on a bad flag", () => {
    const help = run(["--help"]);
    assert.equal(help.status, 0);
    for (const flag of [
      "--listen",
      "--upstream",
      "--allowed-origin",
      "--max-timeout",
      "--max-message-bytes",
    ]) {
      assert.ok(help.stdout.includes(flag), `--help documents ${flag}`);
    }
    const version = run(["--version"]);
    assert.equal(version.status, 0);
    const { version: packageVersion } = JSON.parse(
      readFileSync(new URL("../package.json", import.meta.url), "utf8"),
    );
    assert.equal(version.stdout, `grpc-web-bridge ${packageVersion}\n`);
    const bad = run(["--upstream", "nope"]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /--upstream/);
  });

  test("with port 0, its start lines name the ports the system chose, which answer", async () => {
    const child = spawn(process.execPath, [
      cli,
      ...["--upstream", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
      ...["--log-format", "json"],
    ]);
    after(() => child.kill("SIGKILL"));
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    const port = (line: RegExp) => waitFor(() => line.exec(output)?.[1], 10_000).then(Number);
    const proxyPort = await port(/"proxying gRPC-Web on 127\.0\.0\.1:(\d+);/);
    const adminPort = await port(/"serving \/healthz, \/readyz and \/metrics on 127\.0\.0\.1:(\d+)"/);
    assert.ok(proxyPort > 0 && adminPort > 0 && proxyPort !== adminPort);
    assert.equal((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status, 200);
    const notACall = await fetch(`http://127.0.0.1:${proxyPort}/`);
    assert.equal(notACall.status, 404);
  });

  for (const taken of ["--listen", "--admin-listen"] as const) {
    test(`a port in use (${taken}) is one line naming the flag and port, and nothing serves`, async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      after(() => blocker.close());
      const busy = (blocker.address() as AddressInfo).port;
      const free = await freePort();
      const [listen, admin] = taken === "--listen" ? [busy, free] : [free, busy];
      const child = spawnSync(
        process.execPath,
        [
          cli,
          "--upstream",
          "http://127.0.0.1:1",
          "--listen",
          `127.0.0.1:${listen}`,
          "--admin-listen",
          `127.0.0.1:${admin}`,
        ],
        { encoding: "utf8", timeout: 30_000 },
      );
      assert.equal(child.status, 2, child.stderr);
      assert.equal(
        child.stderr,
        `grpc-web-bridge: ${taken}: 127.0.0.1:${busy} is already in use (see --help)\n`,
      );
      assert.doesNotMatch(child.stdout, new RegExp(`listening.*:${listen}|proxying gRPC-Web`));
    });
  }
});

/** proxy/dist/cli.js, built first when it is missing or older than a source file. */
function builtCli(): string {
  const proxy = new URL("..", import.meta.url).pathname;
  const cli = join(proxy, "dist", "cli.js");
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(join(proxy, "src"))) {
    execFileSync(
      process.execPath,
      [join(proxy, "../node_modules/typescript/bin/tsc"), "-p", join(proxy, "tsconfig.build.json")],
      {
        stdio: "inherit",
      },
    );
  }
  return cli;
}
