// The config file: YAML or JSON, checked against its schema, every problem with file:line:column and
// key; flags and environment variables win over it; --check-config; the CLI serving from it.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { dieWithTest } from "../../testing/lifeline.js";
import { freePort, waitFor } from "../../testing/net.js";
import { parseCli } from "../src/cli/arguments.js";
import { Code } from "../src/index.js";
import { parseConfigFile } from "../src/settings/config-file.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { helloReplies, helloRequest } from "./support/hello-messages.js";
import { greetingFrom, startLoopbackGreeter } from "./support/loopback-greeter.js";
import { cliError, cliConfig as run } from "./support/parse-cli.js";

const dir = mkdtempSync(join(tmpdir(), "bridge-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a new file named `name` in the test's folder; returns its path. */
function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** What is wrong with the file's shape (or its YAML), as the CLI lists it. */
function errorsOf(name: string, text: string): string[] {
  const parsed = parseConfigFile(name, text);
  return parsed.ok ? parsed.config.report(parsed.config.shapeProblems) : [...parsed.errors];
}

const EXAMPLE = `# every key the flags have, and upstreams and routes
listen: 0.0.0.0:8080
adminListen: 127.0.0.1:9090
logLevel: warn
allowedOrigins: [https://app.example]
maxTimeout: 5m
maxMessageBytes: 1048576
drainTimeout: 20s
healthCheck: server
connectTimeout: 2s
keepaliveInterval: 30s
keepaliveTimeout: 10s
sessionIdleTimeout: 10m
dnsRefresh: 15s
upstreams:
  greeter:
    addresses: [dns:///greeter-headless.default.svc.cluster.local:50051]
    healthCheck: helloworld.Greeter
    keepaliveInterval: 1m
  billing:
    addresses: [http://10.0.0.7:50051, http://10.0.0.8:50051]
    authority: billing.internal
routes:
  - match: helloworld.*
    upstream: greeter
  - match: acme.billing.v1.Invoices
    upstream: billing
`;

describe("config file: parsing and schema", () => {
  test("a file with every key parses", () => {
    const parsed = parseConfigFile("bridge.yaml", EXAMPLE);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.errors.join("\n"));
    assert.equal(
      parsed.config.values.upstreams?.greeter?.addresses[0],
      "dns:///greeter-headless.default.svc.cluster.local:50051",
    );
    assert.equal(parsed.config.values.routes?.length, 2);
  });

  test("an empty file is an empty config", () => {
    const parsed = parseConfigFile("bridge.yaml", "# nothing yet\n");
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.config.values, {});
  });

  test("an unknown key names its line and column, and the key it was likely meant to be", () => {
    assert.deepEqual(errorsOf("bridge.yaml", "listen: 127.0.0.1:8080\nmaxTimout: 5s\n"), [
      'bridge.yaml:2:1: maxTimout: unknown key (did you mean "maxTimeout"?)',
    ]);
  });

  test("problems of shape inside upstreams and routes name the whole key path, in the order of the file", () => {
    const text = [
      "upstreams:", //                                   1
      "  greeter:", //                                   2
      "    adresses: [http://127.0.0.1:1]", //          3
      "  other:", //                                     4
      "    addresses: []", //                            5
      "routes:", //                                      6
      "  - match: helloworld.*", //                      7
      "    upstream: 3", //                              8
      "logLevel: loud", //                               9
    ].join("\n");
    assert.deepEqual(errorsOf("bridge.yaml", text), [
      'bridge.yaml:2:3: upstreams.greeter: missing the required key "addresses"',
      'bridge.yaml:3:5: upstreams.greeter.adresses: unknown key (did you mean "addresses"?)',
      "bridge.yaml:5:16: upstreams.other.addresses: must not have fewer than 1 items",
      "bridge.yaml:8:15: routes[0].upstream: expected a string",
    ]);
  });

  test("a duplicate key is an error, not a silent override", () => {
    assert.deepEqual(errorsOf("bridge.yaml", "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n"), [
      "bridge.yaml:2:1: Map keys must be unique",
    ]);
  });

  test("a YAML syntax error names its line", () => {
    const [error] = errorsOf("bridge.yaml", "upstreams:\n  a: [http://x:1\n");
    assert.match(error ?? "", /^bridge\.yaml:\d+:\d+: /);
  });

  test("JSON works the same, lines included", () => {
    const json =
      '{\n  "listen": "127.0.0.1:8080",\n  "upstreams": {\n    "a": { "addresses": ["http://127.0.0.1:1"], "keepaliveIntervall": "1s" }\n  }\n}\n';
    assert.deepEqual(errorsOf("bridge.json", json), [
      'bridge.json:4:49: upstreams.a.keepaliveIntervall: unknown key (did you mean "keepaliveInterval"?)',
    ]);
    assert.deepEqual(
      cliError(["--config", configFile("bad.json", '{"maxMessageBytes": "1MB"}')]).split("\n"),
      [
        "--upstream: required: the gRPC backend, e.g. http://127.0.0.1:50051",
        `${dir}/bad.json:1:21: maxMessageBytes: expected a positive whole number, got "1MB"`,
      ],
    );
  });

  test("the top level must be a mapping", () => {
    assert.deepEqual(errorsOf("bridge.yaml", "- listen\n"), [
      "bridge.yaml:1:1: (top level): expected an object",
    ]);
  });
});

describe("config file: with the CLI", () => {
  test("every setting is read from the file", () => {
    const config = run(["--config", configFile("every.yaml", EXAMPLE)]);
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.port, 8080);
    assert.deepEqual(config.admin, { host: "127.0.0.1", port: 9090 });
    assert.equal(config.logLevel, "warn");
    assert.equal(config.drainTimeoutMs, 20_000);
    const { proxy } = config;
    assert.deepEqual(proxy.allowedOrigins, ["https://app.example"]);
    assert.equal(proxy.maxTimeout, "5m");
    assert.equal(proxy.maxMessageBytes, 1_048_576);
    assert.equal(proxy.healthCheck, "server");
    assert.equal(proxy.connectTimeout, "2s");
    assert.equal(proxy.keepaliveInterval, "30s");
    assert.equal(proxy.keepaliveTimeout, "10s");
    assert.equal(proxy.sessionIdleTimeout, "10m");
    assert.equal(proxy.dnsRefresh, "15s");
    assert.equal(proxy.upstream, undefined);
    assert.deepEqual(proxy.upstreams?.greeter, {
      addresses: ["dns:///greeter-headless.default.svc.cluster.local:50051"],
      healthCheck: "helloworld.Greeter",
      keepaliveInterval: "1m",
    });
    assert.equal(proxy.upstreams?.billing?.authority, "billing.internal");
    assert.deepEqual(proxy.routes, [
      { match: "helloworld.*", upstream: "greeter" },
      { match: "acme.billing.v1.Invoices", upstream: "billing" },
    ]);
  });

  test("flags win over the environment, which wins over the file", () => {
    const file = configFile(
      "base.yaml",
      "upstream: http://127.0.0.1:1\nlisten: 127.0.0.1:1000\nmaxTimeout: 1m\nlogLevel: warn\n",
    );
    const config = run(["--config", file, "--listen", "127.0.0.1:2000"], {
      GRPC_WEB_BRIDGE_LISTEN: "127.0.0.1:3000",
      GRPC_WEB_BRIDGE_MAX_TIMEOUT: "2m",
    });
    assert.equal(config.port, 2000);
    assert.equal(config.proxy.maxTimeout, "2m");
    assert.equal(config.logLevel, "warn");
    assert.equal(config.proxy.upstream, "http://127.0.0.1:1");
  });

  test("the config file can come from the environment", () => {
    const file = configFile("from-env.yaml", "upstream: http://127.0.0.1:7\n");
    assert.equal(run([], { GRPC_WEB_BRIDGE_CONFIG: file }).proxy.upstream, "http://127.0.0.1:7");
  });

  test("--upstream replaces the file's upstreams and routes", () => {
    const config = run(["--config", configFile("routes.yaml", EXAMPLE), "--upstream", "http://127.0.0.1:9"]);
    assert.equal(config.proxy.upstream, "http://127.0.0.1:9");
    assert.equal(config.proxy.upstreams, undefined);
    assert.equal(config.proxy.routes, undefined);
  });

  test("a bad value from the file names the file, line and key; the same from a flag names the flag", () => {
    const file = configFile("bad-value.yaml", "upstream: http://127.0.0.1:1\n\nlisten: nowhere\n");
    assert.equal(cliError(["--config", file]), `${file}:3:9: listen: expected HOST:PORT, got "nowhere"`);
    assert.match(cliError(["--config", file, "--listen", "nowhere"]), /^--listen: /);
  });

  test("every problem with upstreams and routes is listed, each with its line", () => {
    const file = configFile(
      "bad-routing.yaml",
      [
        "upstreams:",
        "  a:",
        "    addresses: [ftp://x]",
        "    keepaliveInterval: soon",
        "routes:",
        '  - match: "a.*.b"',
        "    upstream: b",
      ].join("\n"),
    );
    assert.deepEqual(cliError(["--config", file]).split("\n"), [
      `${file}:3:17: upstreams.a.addresses[0]: expected http://host:port, https://host:port, dns:///host:port or dns+https:///host:port, got "ftp:" in "ftp://x"`,
      `${file}:4:24: upstreams.a.keepaliveInterval: expected a duration like 500ms, 30s, 5m or 1h, got "soon"`,
      `${file}:6:12: routes[0].match: expected /package.Service/Method, package.Service, package.* or *, got "a.*.b"`,
      `${file}:7:15: routes[0].upstream: no upstream named "b" (upstreams: a)`,
    ]);
  });

  test("the docs' example bridge.yaml files are valid", () => {
    const examples = ["../../README.md", "../../docs/proxy.md", "../../docs/settings.md"].flatMap((doc) => {
      const text = readFileSync(new URL(doc, import.meta.url), "utf8");
      return [...text.matchAll(/```yaml\n(# bridge\.yaml\n[\s\S]*?)```/g)].map((match) => match[1] ?? "");
    });
    assert.ok(examples.length > 0, "the docs have a bridge.yaml example");
    for (const [i, example] of examples.entries()) {
      const checked = parseCli(["--check-config", configFile(`example-${i}.yaml`, example)], {});
      assert.equal(checked.kind, "checked", JSON.stringify(checked));
    }
  });

  test("a file that cannot be read is one error naming it", () => {
    assert.match(
      cliError(["--config", join(dir, "missing.yaml")]),
      /missing\.yaml: cannot read the config file: ENOENT/,
    );
  });
});

describe("config file: the real CLI", () => {
  const cli = new URL("../src/cli.ts", import.meta.url).pathname;
  const node = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });

  test("--check-config says what a valid file sets up and exits 0", () => {
    const checked = node(["--check-config", configFile("valid.yaml", EXAMPLE)]);
    assert.equal(checked.status, 0, checked.stderr);
    assert.match(
      checked.stdout,
      /valid\.yaml: valid; 2 upstreams \(greeter: dns:\/\/\/greeter-headless\S+; billing: .*\), 2 routes/,
    );
  });

  test("--check-config lists every problem, one a line, and exits 2", () => {
    const checked = node([
      "--check-config",
      configFile("invalid.yaml", "listen: 1\nlogLevl: info\nupstream: ftp://x\n"),
    ]);
    assert.equal(checked.status, 2);
    const lines = checked.stderr.trim().split("\n");
    assert.equal(lines[0], "grpc-web-bridge: 3 problems:");
    assert.match(lines[1] ?? "", /invalid\.yaml:1:9: listen: expected HOST:PORT, got 1$/);
    assert.match(lines[2] ?? "", /invalid\.yaml:2:1: logLevl: unknown key \(did you mean "logLevel"\?\)$/);
    assert.match(lines[3] ?? "", /invalid\.yaml:3:11: upstream: expected http:\/\/host:port, .* got "ftp:"/);
  });

  let child: ChildProcess | undefined;
  after(() => child?.kill());

  test("the CLI serves the routes of its config file", async () => {
    const [greeterA, greeterB] = await Promise.all([
      startLoopbackGreeter("127.0.0.2"),
      startLoopbackGreeter("127.0.0.3"),
    ]);
    after(() => Promise.all([greeterA.close(), greeterB.close()]));
    const port = await freePort();
    const file = configFile(
      "serve.yaml",
      [
        `listen: 127.0.0.1:${port}`,
        "upstreams:",
        `  hello: { addresses: ["http://127.0.0.2:${greeterA.port}"] }`,
        `  acme: { addresses: ["http://127.0.0.3:${greeterB.port}"] }`,
        "routes:",
        "  - { match: helloworld.Greeter, upstream: hello }",
        "  - { match: acme.*, upstream: acme }",
      ].join("\n"),
    );
    child = spawn(process.execPath, ["--import", "tsx", cli, "--config", file], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    dieWithTest(child);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
    await waitFor(() => (output.includes("proxying gRPC-Web") ? true : undefined), 60_000); // a bound only (see cli-process.ts)
    const url = `http://127.0.0.1:${port}`;
    const hello = await grpcWebCall(url, "/helloworld.Greeter/SayHello", { message: helloRequest("Ada") });
    assert.deepEqual(helloReplies(hello.messages), [greetingFrom("127.0.0.2")]);
    const acme = await grpcWebCall(url, "/acme.Things/Get", { message: helloRequest("Ada") });
    assert.deepEqual(helloReplies(acme.messages), [greetingFrom("127.0.0.3")]);
    const none = await grpcWebCall(url, "/other.Service/Method", { message: helloRequest("Ada") });
    assert.equal(none.grpcStatus, Code.UNIMPLEMENTED);
    assert.match(
      output,
      /2 upstreams \(hello: http:\/\/127\.0\.0\.2:\d+; acme: http:\/\/127\.0\.0\.3:\d+\), 2 routes/,
    );
  });
});
