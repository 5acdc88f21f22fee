// The operations flags: admin listener, readiness health check, drain timeout.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseCli } from "../src/cli/arguments.js";
import { USAGE } from "../src/cli/usage.js";

const upstream = ["--upstream", "http://127.0.0.1:50051"];

function parse(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const parsed = parseCli([...upstream, ...argv], env);
  if (parsed.kind !== "run") assert.fail(`expected a config, got ${JSON.stringify(parsed)}`);
  return parsed.config;
}

function errorOf(argv: string[]): string {
  const parsed = parseCli([...upstream, ...argv], {});
  if (parsed.kind !== "error") assert.fail(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe("operations flags", () => {
  test("defaults: no admin listener, a 30 s drain, readiness by connection only", () => {
    const config = parse([]);
    assert.equal(config.admin, undefined);
    assert.equal(config.drainTimeoutMs, 30_000);
    assert.equal(config.proxy.healthCheck, undefined);
  });

  test("flags are read", () => {
    const config = parse([
      "--admin-listen",
      "[::1]:9090",
      "--drain-timeout",
      "2.5s",
      "--health-check",
      "helloworld.Greeter",
    ]);
    assert.deepEqual(config.admin, { host: "::1", port: 9090 });
    assert.equal(config.drainTimeoutMs, 2500);
    assert.equal(config.proxy.healthCheck, "helloworld.Greeter");
  });

  test("environment variables stand in for absent flags", () => {
    const config = parse([], {
      GRPC_WEB_BRIDGE_ADMIN_LISTEN: "0.0.0.0:9090",
      GRPC_WEB_BRIDGE_DRAIN_TIMEOUT: "0s",
      GRPC_WEB_BRIDGE_HEALTH_CHECK: "server",
    });
    assert.deepEqual(config.admin, { host: "0.0.0.0", port: 9090 });
    assert.equal(config.drainTimeoutMs, 0, "0 ends calls in flight at once");
    assert.equal(config.proxy.healthCheck, "server", "'server' asks about the whole server");
  });

  for (const [argv, pattern] of [
    [["--admin-listen", "9090"], /^--admin-listen: expected HOST:PORT/],
    [["--admin-listen", "127.0.0.1:8080"], /^--admin-listen: must differ from --listen/],
    [["--drain-timeout", "a while"], /^--drain-timeout: expected a duration/],
  ] as const) {
    test(`a bad value names its flag: ${argv.join(" ")}`, () => {
      assert.match(errorOf([...argv]), pattern);
    });
  }

  test("--help documents each flag with its environment variable", () => {
    for (const [flag, env] of [
      ["--admin-listen", "GRPC_WEB_BRIDGE_ADMIN_LISTEN"],
      ["--health-check", "GRPC_WEB_BRIDGE_HEALTH_CHECK"],
      ["--drain-timeout", "GRPC_WEB_BRIDGE_DRAIN_TIMEOUT"],
    ] as const) {
      assert.ok(USAGE.includes(flag) && USAGE.includes(env), `${flag} and ${env} in --help`);
    }
  });
});
