// No Docker engine runs here, so this checks that docker-compose.yml, the Dockerfile and the code agree:
// the services, ports, commands, environment and files each names, and that the health checks work.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { freePort } from "../../testing/net.js";
import { demoConfig } from "../src/config.js";
import { startGreeterServer } from "../src/greeter/server.js";
import { startWebServer } from "../src/web-server.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);

interface Service {
  image: string;
  build: { context: string; dockerfile: string };
  command: string[];
  environment: Record<string, string>;
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck: { test: string[] };
}

const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};
const greeter = service("greeter");
const proxy = service("proxy");
const dockerfile = readFileSync(join(root, greeter.build.dockerfile), "utf8");

function service(name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has no service ${name}`);
  return found;
}

/** The dist file a `node demo-app/dist/x.js` command runs, as the TypeScript source it is built from. */
function sourceOf(command: string[]): string {
  const [node, script, ...rest] = command;
  assert.equal(node, "node");
  assert.deepEqual(rest, []);
  const match = /^demo-app\/dist\/([\w-]+)\.js$/.exec(script ?? "");
  assert.ok(match, `expected demo-app/dist/<entry>.js, got ${script}`);
  return join(root, "demo-app/src", `${match[1]}.ts`);
}

/** The JavaScript a `node -e` health check runs. */
function healthScript(service: Service): string {
  const [kind, node, flag, script] = service.healthcheck.test;
  assert.deepEqual([kind, node, flag], ["CMD", "node", "-e"]);
  assert.ok(script);
  return script;
}

async function exitCode(script: string): Promise<number> {
  return run(process.execPath, ["-e", script], { timeout: 10_000 }).then(
    () => 0,
    (error: { code?: number }) => error.code ?? -1,
  );
}

test("compose has exactly the greeter and the proxy, both built from the demo's Dockerfile", () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ["greeter", "proxy"]);
  for (const { build, image } of [greeter, proxy]) {
    assert.equal(image, "grpc-web-bridge-demo");
    assert.ok(
      existsSync(join(root, build.context, "package.json")),
      "the build context is the repository root",
    );
    assert.ok(existsSync(join(root, build.context, build.dockerfile)));
  }
});

test("each service runs an entry point that the build produces and the image contains", () => {
  assert.ok(existsSync(sourceOf(greeter.command)));
  assert.ok(existsSync(sourceOf(proxy.command)));
  assert.match(dockerfile, /^COPY --from=build \/app\/demo-app\/dist demo-app\/dist$/m);
});

test("the environment is valid for the demo and the services point at each other", () => {
  const greeterConfig = demoConfig(greeter.environment);
  const proxyConfig = demoConfig(proxy.environment);
  assert.ok(!(greeterConfig instanceof Error) && !(proxyConfig instanceof Error));
  assert.equal(greeterConfig.greeterHost, "0.0.0.0", "reachable from the proxy's container");
  assert.deepEqual(greeter.expose, [String(greeterConfig.greeterPort)]);
  assert.equal(proxyConfig.greeterUrl, `http://greeter:${greeterConfig.greeterPort}`);
  assert.equal(proxyConfig.host, "0.0.0.0");
  assert.deepEqual(proxy.depends_on, { greeter: { condition: "service_healthy" } });
  // Published on the host's loopback only, to the port the proxy listens on; the admin port stays inside.
  assert.deepEqual(proxy.ports, [`127.0.0.1:\${DEMO_PORT:-8080}:${proxyConfig.port}`]);
  assert.match(dockerfile, new RegExp(`^EXPOSE .*\\b${proxyConfig.port}\\b`, "m"));
});

test("the health checks probe the ports the services listen on", () => {
  const greeterConfig = demoConfig(greeter.environment);
  const proxyConfig = demoConfig(proxy.environment);
  assert.ok(!(greeterConfig instanceof Error) && !(proxyConfig instanceof Error));
  assert.match(
    healthScript(greeter),
    new RegExp(`connect\\(${greeterConfig.greeterPort}, '127\\.0\\.0\\.1'\\)`),
  );
  assert.match(healthScript(proxy), new RegExp(`'http://127\\.0\\.0\\.1:${proxyConfig.adminPort}/healthz'`));
});

test("the health check scripts pass against running services and fail when nothing listens", async (t) => {
  const running = await startGreeterServer({ host: "127.0.0.1", port: 0 });
  t.after(() => running.close());
  const greeterPort = Number(new URL(running.url).port);
  const adminPort = await freePort();
  const web = await startWebServer({
    host: "127.0.0.1",
    port: 0,
    upstream: running.url,
    pageDir: root,
    adminPort,
  });
  t.after(() => web.close());
  const greeterCheck = healthScript(greeter).replace("50051", String(greeterPort));
  const proxyCheck = healthScript(proxy).replace(":9090/", `:${adminPort}/`);
  assert.equal(await exitCode(greeterCheck), 0);
  assert.equal(await exitCode(proxyCheck), 0);
  const nobody = String(await freePort());
  assert.equal(await exitCode(healthScript(greeter).replace("50051", nobody)), 1);
  assert.equal(await exitCode(healthScript(proxy).replace(":9090/", `:${nobody}/`)), 1);
});

test("the Dockerfile: multi-stage on a Node LTS slim image, copies only what exists, runs as non-root", () => {
  const images = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
  assert.ok(images.length >= 2, "multi-stage");
  for (const image of images) {
    const major = Number(/^node:(\d+)-slim$/.exec(image ?? "")?.[1]);
    assert.ok(major >= 20 && major % 2 === 0, `${image} should be node:<LTS>-slim`);
  }
  const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) =>
    (match[1] ?? "").split(" "),
  );
  assert.ok(sources.length > 0);
  for (const source of sources) assert.ok(existsSync(join(root, source)), `COPY ${source}: no such file`);
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  assert.match(lastStage, /^USER node$/m);
  assert.match(lastStage, /^CMD \["node", "demo-app\/dist\/start\.js"\]$/m);
});

test(".dockerignore keeps host installs and builds out of the image", () => {
  const ignored = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
  for (const pattern of ["**/node_modules", "**/dist", ".git"]) assert.ok(ignored.includes(pattern), pattern);
});
