// The serving flags (TLS both ways, bearer auth, limits and timeouts, workers) as the CLI reads them
// from flags, environment and config file, and the one-line error of each bad value.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type CliConfig, parseCli } from "../src/cli/arguments.js";

const upstream = ["--upstream", "https://127.0.0.1:50051"];
const dir = mkdtempSync(join(tmpdir(), "serving-flags-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text = "stand-in") => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const tokens = file("tokens", "token-1\n");

function config(argv: string[], env: NodeJS.ProcessEnv = {}): CliConfig {
  const parsed = parseCli([...upstream, ...argv], env);
  if (parsed.kind !== "run") assert.fail(JSON.stringify(parsed));
  return parsed.config;
}

function error(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const parsed = parseCli([...upstream, ...argv], env);
  if (parsed.kind !== "error") assert.fail(JSON.stringify(parsed));
  return parsed.message;
}

describe("serving flags", () => {
  test("defaults: no TLS, no auth, the plugin's default limits, one process", () => {
    const { proxy, workers } = config([]);
    assert.equal(workers, 1);
    for (const key of ["tls", "upstreamTls", "interceptors", "maxConcurrentCalls", "streamIdleTimeout"]) {
      assert.equal(key in proxy, false, key);
    }
  });

  test("every serving flag is read", () => {
    const { proxy, workers } = config([
      ...["--tls-cert", file("cert.pem"), "--tls-key", file("key.pem")],
      ...["--upstream-ca", file("ca.pem"), "--upstream-server-name", "greeter.internal"],
      ...["--upstream-cert", file("client.pem"), "--upstream-key", file("client-key.pem")],
      "--upstream-insecure-skip-verify",
      ...["--auth-tokens-file", tokens],
      ...["--max-response-message-bytes", "1000", "--max-header-bytes", "2000"],
      ...["--max-concurrent-calls", "30", "--max-calls-per-connection", "4"],
      ...["--default-timeout", "2s", "--stream-idle-timeout", "0"],
      ...["--headers-timeout", "5s", "--request-timeout", "1m"],
      ...["--workers", "3"],
    ]);
    assert.deepEqual(proxy.tls, { certFile: join(dir, "cert.pem"), keyFile: join(dir, "key.pem") });
    assert.deepEqual(proxy.upstreamTls, {
      caFile: join(dir, "ca.pem"),
      certFile: join(dir, "client.pem"),
      keyFile: join(dir, "client-key.pem"),
      serverName: "greeter.internal",
      insecureSkipVerify: true,
    });
    assert.equal(proxy.interceptors?.length, 1);
    assert.equal(proxy.maxResponseMessageBytes, 1000);
    assert.equal(proxy.maxHeaderBytes, 2000);
    assert.equal(proxy.maxConcurrentCalls, 30);
    assert.equal(proxy.maxCallsPerConnection, 4);
    assert.equal(proxy.defaultTimeout, "2s");
    assert.equal(proxy.streamIdleTimeout, "0", "0 turns it off");
    assert.equal(proxy.headersTimeout, "5s");
    assert.equal(proxy.requestTimeout, "1m");
    assert.equal(workers, 3);
  });

  test("the environment and the config file set them too; a flag wins", () => {
    const configFile = file(
      "bridge.yaml",
      `maxConcurrentCalls: 7\nworkers: auto\nupstreamInsecureSkipVerify: true\nauthTokensFile: ${tokens}\n`,
    );
    const fromFile = config(["--config", configFile]);
    assert.equal(fromFile.proxy.maxConcurrentCalls, 7);
    assert.equal(fromFile.workers, availableParallelism());
    assert.equal(fromFile.proxy.upstreamTls?.insecureSkipVerify, true);
    assert.equal(fromFile.proxy.interceptors?.length, 1);
    const fromEnv = config(["--config", configFile], {
      GRPC_WEB_BRIDGE_MAX_CONCURRENT_CALLS: "8",
      GRPC_WEB_BRIDGE_UPSTREAM_INSECURE_SKIP_VERIFY: "false",
    });
    assert.equal(fromEnv.proxy.maxConcurrentCalls, 8);
    assert.equal(fromEnv.proxy.upstreamTls, undefined);
    assert.equal(config(["--config", configFile, "--max-concurrent-calls", "9"]).proxy.maxConcurrentCalls, 9);
  });

  test("a bad value is one line naming its flag (or its file key and line)", () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ["--tls-cert", join(dir, "missing.pem"), "--tls-key", tokens],
        /^--tls-cert: cannot read ".*missing\.pem"/,
      ],
      [["--tls-cert", tokens], /^--tls-cert: --tls-cert and --tls-key go together/],
      [["--upstream-key", tokens], /^--upstream-key: --upstream-cert and --upstream-key go together/],
      [["--tls-legacy-clients"], /^--tls-legacy-clients: needs --tls-cert/],
      [["--auth-jwt-issuer", "idp"], /^--auth-jwt-issuer: needs --auth-jwt-key/],
      [
        ["--auth-jwt-key", tokens],
        /^--auth-jwt-key: the JWT key file .* is not a PEM public key, JWK or JWKS/,
      ],
      [["--auth-tokens-file", file("empty", "# nobody\n")], /^--auth-tokens-file: .* holds no token/],
      [["--max-concurrent-calls", "0"], /^--max-concurrent-calls: expected a positive whole number, got 0/],
      [["--max-header-bytes", "1.5"], /^--max-header-bytes: expected a positive whole number/],
      [["--default-timeout", "0"], /^--default-timeout: must be longer than 0/],
      [["--default-timeout", "30"], /^--default-timeout: add a unit: 30s or 30ms$/],
      [["--stream-idle-timeout", "soon"], /^--stream-idle-timeout: expected a duration .*\(0: off\)/],
      [["--workers", "0"], /^--workers: expected a positive whole number or "auto"/],
    ];
    for (const [argv, pattern] of cases) assert.match(error(argv), pattern, argv.join(" "));
    assert.match(
      error([], { GRPC_WEB_BRIDGE_UPSTREAM_INSECURE_SKIP_VERIFY: "yes" }),
      /^\$GRPC_WEB_BRIDGE_UPSTREAM_INSECURE_SKIP_VERIFY: expected true or false, got "yes"/,
    );
    const badFile = file("bad.yaml", "maxCallsPerConnection: 0\n");
    assert.match(error(["--config", badFile]), /bad\.yaml:1:\d+: maxCallsPerConnection/);
  });
});
