// The settings registry and what is made from it: the one duration rule, the plugin's option check, the table
// of docs/settings.md, and a library entry that loads no CLI or config file code.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Fastify from "fastify";
import { buildServer, type GrpcWebProxyOptions, grpcWebProxy } from "../src/index.js";
import { durationProblem, parseDuration } from "../src/settings/durations.js";
import { PER_UPSTREAM_KEYS, SETTING_KEYS, SETTINGS, type Setting } from "../src/settings/registry.js";
import { withSettingsTable } from "../src/settings/table.js";
import { planRouting } from "../src/upstream/routing.js";

describe("durations", () => {
  test("read ms, s, m (minutes) and h, and 0 alone", () => {
    for (const [text, ms] of [
      ["250ms", 250],
      ["30s", 30_000],
      ["5m", 300_000],
      ["1h", 3_600_000],
      ["1.5s", 1500],
      ["0", 0],
      [" 2s ", 2000],
    ] as const) {
      assert.equal(parseDuration(text), ms, text);
    }
  });

  test("anything else is not a duration, a bare number least of all", () => {
    for (const bad of [
      "",
      "1500",
      "30",
      "abc",
      "-1s",
      "5x",
      "5 m",
      "1h30m",
      "5S",
      "5M",
      ".5s",
      "5.s",
      "1e3",
      "s",
    ]) {
      assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
    }
  });

  test("a bare number's problem shows the fix; anything else's the forms", () => {
    assert.equal(durationProblem("30"), "add a unit: 30s or 30ms");
    assert.equal(durationProblem(30), "add a unit: 30s or 30ms");
    assert.equal(durationProblem("soon"), 'expected a duration like 500ms, 30s, 5m or 1h, got "soon"');
  });
});

describe("the registry", () => {
  test("each variable is the flag's name under GRPC_WEB_BRIDGE_ (a repeated flag's in the plural)", () => {
    for (const key of SETTING_KEYS) {
      const row = SETTINGS[key] as Setting;
      if (row.env === undefined) continue;
      const name = `GRPC_WEB_BRIDGE_${row.flag.toUpperCase().replaceAll("-", "_")}${row.repeated ? "S" : ""}`;
      assert.equal(row.env, name, key);
    }
  });

  test("every per-upstream setting reaches the upstream's tuning", () => {
    for (const key of PER_UPSTREAM_KEYS) {
      const plan = planRouting({
        upstreams: {
          a: { addresses: ["http://127.0.0.1:1"], [key]: key === "healthCheck" ? "server" : "1s" },
        },
      });
      assert.ok(!Array.isArray(plan), JSON.stringify(plan));
      assert.equal(Object.keys(plan.upstreams[0]?.tuning ?? {}).length, 1, key);
    }
  });

  test("docs/settings.md has the table the registry makes (npm run docs:settings writes it)", () => {
    const doc = readFileSync(new URL("../../docs/settings.md", import.meta.url), "utf8");
    assert.equal(doc, withSettingsTable(doc), "docs/settings.md is stale: run npm run docs:settings");
    for (const key of SETTING_KEYS) assert.ok(doc.includes(`\`--${(SETTINGS[key] as Setting).flag}`), key);
  });
});

describe("plugin options", () => {
  const register = async (options: Record<string, unknown>) => {
    const app = Fastify({ logger: false });
    after(() => app.close());
    await app.register(grpcWebProxy, options as GrpcWebProxyOptions);
    await app.ready();
  };

  test("are the config keys, with the file's values", async () => {
    await register({
      upstreams: {
        a: { addresses: ["http://127.0.0.1:1"], keepaliveInterval: "30s", healthCheck: "server" },
      },
      allowedOrigins: ["https://app.example"],
      maxTimeout: "5s",
      maxCallsPerConnection: 10,
      streamIdleTimeout: "0",
    });
  });

  test("an unknown option throws, with the name it was likely meant to be", async () => {
    await assert.rejects(register({ upstream: "http://127.0.0.1:1", allowedOrigin: ["*"] }), {
      name: "TypeError",
      message: 'grpc-web-bridge options: allowedOrigin: unknown option (did you mean "allowedOrigins"?)',
    });
  });

  test("an option of the wrong kind throws; every problem is in the one error", async () => {
    await assert.rejects(
      register({
        upstream: "localhost:1",
        maxTimeout: 5000,
        maxMessageBytes: "1MB",
        maxTimeoutMs: 5000,
        healthCheckService: "",
        upstreams: undefined,
      }),
      {
        name: "TypeError",
        message:
          "grpc-web-bridge options: maxTimeout: add a unit: 5000s or 5000ms; " +
          'maxMessageBytes: expected a positive whole number, got "1MB"; ' +
          'maxTimeoutMs: unknown option: it is "maxTimeout" now, a duration like "30s", as in the config file; ' +
          'healthCheckService: unknown option: it is "healthCheck" now, as in the config file; ' +
          "upstream: missing the scheme: try http://localhost:1 (h2c) or https://localhost:1 (TLS)",
      },
    );
  });

  test("the shapes of upstreams and routes are checked, with did-you-mean inside an upstream", async () => {
    await assert.rejects(
      register({
        upstreams: { a: { addresses: ["http://127.0.0.1:1"], keepaliveIntervall: "1s" } },
        routes: "a",
      }),
      {
        message:
          'grpc-web-bridge options: upstreams.a.keepaliveIntervall: unknown key (did you mean "keepaliveInterval"?); ' +
          "routes: expected a list of { match, upstream }",
      },
    );
  });

  test("buildServer checks its own options too", async () => {
    await assert.rejects(
      buildServer({ upstream: "http://127.0.0.1:1", logger: false, headersTimeout: "10" }),
      {
        message: "grpc-web-bridge options: headersTimeout: add a unit: 10s or 10ms",
      },
    );
  });
});

describe("the library entry", () => {
  /** The module URLs that importing `entry` loads, recorded by a resolve hook in a process of its own. */
  function loadedBy(entry: string): string[] {
    const dir = mkdtempSync(join(tmpdir(), "loaded-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, "loaded.txt");
    const hooks = [
      'import { appendFileSync } from "node:fs";',
      "let log;",
      "export function initialize(data) { log = data.log; }",
      "export async function resolve(specifier, context, next) {",
      "  const result = await next(specifier, context);",
      '  appendFileSync(log, result.url.concat("\\n"));',
      "  return result;",
      "}",
    ].join("\n");
    const registrar = `import { register } from "node:module"; register(${JSON.stringify(
      `data:text/javascript,${encodeURIComponent(hooks)}`,
    )}, { data: { log: ${JSON.stringify(log)} } });`;
    const child = spawnSync(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        "--import",
        `data:text/javascript,${encodeURIComponent(registrar)}`,
        "--input-type=module",
        "--eval",
        `await import(${JSON.stringify(new URL(entry, import.meta.url).href)});`,
      ],
      { cwd: new URL("../..", import.meta.url).pathname, encoding: "utf8" },
    );
    assert.equal(child.status, 0, child.stderr);
    return readFileSync(log, "utf8").trim().split("\n");
  }
  const cliOrFile =
    /\/node_modules\/(yaml|typebox)\/|\/src\/cli(\.ts|\/)|\/src\/settings\/(config-file|schema)\.ts/;

  test("loads neither yaml nor typebox nor CLI code", () => {
    const loaded = loadedBy("../src/index.ts");
    assert.ok(
      loaded.some((url) => url.includes("/node_modules/fastify/")),
      "the hook saw the library's imports",
    );
    assert.deepEqual(
      loaded.filter((url) => cliOrFile.test(url)),
      [],
    );
  });

  test("nor jose nor ws, which only JWT keys and WebSocket calls load", () => {
    const loaded = loadedBy("../src/index.ts");
    assert.deepEqual(
      loaded.filter((url) => /\/node_modules\/(jose|ws)\//.test(url)),
      [],
    );
  });

  test("the CLI's arguments load yaml and typebox only for a config file", () => {
    const loaded = loadedBy("../src/cli/arguments.ts");
    assert.ok(
      loaded.some((url) => url.includes("/src/settings/registry.ts")),
      "the hook saw the arguments' imports",
    );
    assert.deepEqual(
      loaded.filter((url) => /\/node_modules\/(yaml|typebox)\/|\/src\/settings\/config-file\.ts/.test(url)),
      [],
    );
  });

  test("while the config file's reader does load them (the check sees what it looks for)", () => {
    const loaded = loadedBy("../src/settings/config-file.ts");
    for (const module of ["/node_modules/yaml/", "/node_modules/typebox/"]) {
      assert.ok(
        loaded.some((url) => url.includes(module)),
        module,
      );
    }
  });
});
