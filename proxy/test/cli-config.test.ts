import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
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

  test("the built CLI prints --help and fails fast with one line on a bad flag", () => {
    const cli = new URL("../src/cli.ts", import.meta.url).pathname;
    const node = [process.execPath, "--import", "tsx", cli];
    const help = spawnSync(node[0] as string, [...node.slice(1), "--help"], { encoding: "utf8" });
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
    const bad = spawnSync(node[0] as string, [...node.slice(1), "--upstream", "nope"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /--upstream/);
  });
});
