// No Docker engine runs here, so this checks that docker-compose.yml, the Dockerfiles and the code agree:
// the services, ports, commands, environment and files each names, and that the health checks work.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { parseCli } from "../../proxy/src/cli/arguments.js";
import { DEAD_PORT } from "../../testing/net.js";
import { ENTRY_POINTS } from "../src/build.js";
import { demoConfig } from "../src/config.js";
import { startGreeterServer } from "../src/greeter/server.js";
import { PROXY_URL_META, startPageServer } from "../src/page-server.js";

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
  healthcheck?: { test: string[] };
}

/** The file as Compose reads it with no variables set: each `${NAME:-default}` is its default. */
const composeText = readFileSync(join(root, "docker-compose.yml"), "utf8").replace(
  /\$\{\w+:-([^}]*)\}/g,
  "$1",
);
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const greeter = service("greeter");
const proxy = service("proxy");
const page = service("page");
const dockerfile = readFileSync(join(root, greeter.build.dockerfile), "utf8");

function service(name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `docker-compose.yml has no service ${name}`);
  return found;
}

/** The entry point a `node demo-app/dist/x.js` command runs. */
function entryPointOf(command: string[]): string {
  const [node, script, ...rest] = command;
  assert.equal(node, "node");
  assert.deepEqual(rest, []);
  const match = /^demo-app\/dist\/([\w-]+)\.js$/.exec(script ?? "");
  assert.ok(match?.[1], `expected demo-app/dist/<entry>.js, got ${script}`);
  return match[1];
}

/** The JavaScript a `node -e` health check runs. */
function healthScript(service: Service): string {
  const [kind, node, flag, script] = service.healthcheck?.test ?? [];
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

/** The proxy's command as its CLI reads it. */
function proxyConfig() {
  const parsed = parseCli(proxy.command, {});
  assert.equal(parsed.kind, "run", parsed.kind === "error" ? parsed.message : "");
  return parsed.kind === "run" ? parsed.config : assert.fail();
}

/** `127.0.0.1:HOST_PORT:CONTAINER_PORT` of a service's one published port. */
function published(service: Service): { hostPort: number; containerPort: number } {
  assert.equal(service.ports?.length, 1);
  const [host, hostPort, containerPort] = (service.ports?.[0] ?? "").split(":");
  assert.equal(host, "127.0.0.1", "published on the host's loopback only");
  return { hostPort: Number(hostPort), containerPort: Number(containerPort) };
}

test("compose has the greeter and the page from the demo's image, and the proxy from its own", () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ["greeter", "page", "proxy"]);
  for (const { build, image } of [greeter, page]) {
    assert.equal(image, "grpc-web-bridge-demo");
    assert.equal(build.dockerfile, "demo-app/Dockerfile");
  }
  for (const { build } of [greeter, page, proxy]) {
    assert.ok(
      existsSync(join(root, build.context, "package.json")),
      "the build context is the repository root",
    );
    assert.ok(existsSync(join(root, build.context, build.dockerfile)));
  }
  assert.equal(proxy.build.dockerfile, "proxy/Dockerfile");
  const deployment = parseAllDocuments(
    readFileSync(join(root, "deploy/kubernetes/deployment.yaml"), "utf8"),
  )[0]?.toJS();
  assert.equal(proxy.image, deployment.spec.template.spec.containers[0].image, "the image Kubernetes runs");
});

test("each demo service runs an entry point that the build produces and the image contains", () => {
  for (const { command } of [greeter, page]) assert.ok(ENTRY_POINTS.includes(entryPointOf(command) as never));
  assert.match(dockerfile, /^COPY --from=build \/app\/demo-app\/dist demo-app\/dist$/m);
});

test("the services point at each other: page → proxy → greeter, on the ports they listen on", () => {
  const greeterConfig = demoConfig(greeter.environment);
  const pageConfig = demoConfig(page.environment);
  assert.ok(!(greeterConfig instanceof Error) && !(pageConfig instanceof Error));
  assert.equal(greeterConfig.greeterHost, "0.0.0.0", "reachable from the proxy's container");
  assert.deepEqual(greeter.expose, [String(greeterConfig.greeterPort)]);

  const config = proxyConfig();
  assert.deepEqual(config.proxy.upstream, `http://greeter:${greeterConfig.greeterPort}`);
  assert.equal(config.host, "0.0.0.0");
  assert.ok(config.admin, "an admin listener, for the image's HEALTHCHECK");
  assert.equal(proxy.healthcheck, undefined, "the image's own HEALTHCHECK");
  const proxyPort = published(proxy);
  assert.equal(proxyPort.containerPort, config.port);
  assert.notEqual(proxyPort.containerPort, config.admin.port, "the admin port is not published");

  assert.equal(pageConfig.host, "0.0.0.0");
  const pagePort = published(page);
  assert.equal(pagePort.containerPort, pageConfig.port);
  assert.equal(
    pageConfig.proxyUrl,
    `http://localhost:${proxyPort.hostPort}`,
    "the proxy as the browser reaches it",
  );
  for (const origin of [`http://localhost:${pagePort.hostPort}`, `http://127.0.0.1:${pagePort.hostPort}`]) {
    assert.ok(config.proxy.allowedOrigins?.includes(origin), `the proxy allows the page at ${origin}`);
  }
  assert.deepEqual(proxy.depends_on, { greeter: { condition: "service_healthy" } });
  assert.deepEqual(page.depends_on, { proxy: { condition: "service_healthy" } });
  assert.match(dockerfile, new RegExp(`^EXPOSE .*\\b${pageConfig.port}\\b`, "m"));
});

test("the health checks probe the ports the services listen on", () => {
  const greeterConfig = demoConfig(greeter.environment);
  const pageConfig = demoConfig(page.environment);
  assert.ok(!(greeterConfig instanceof Error) && !(pageConfig instanceof Error));
  assert.match(
    healthScript(greeter),
    new RegExp(`connect\\(${greeterConfig.greeterPort}, '127\\.0\\.0\\.1'\\)`),
  );
  assert.match(healthScript(page), new RegExp(`'http://127\\.0\\.0\\.1:${pageConfig.port}/'`));
});

/** The page server on a free port, serving the page's sources (their index.html is all it rewrites). */
function startSourcePage() {
  return startPageServer({
    host: "127.0.0.1",
    port: 0,
    pageDir: join(root, "demo-app/src/web"),
    proxyUrl: "http://localhost:8081",
  });
}

test("the health check scripts pass against running services and fail when nothing listens", async (t) => {
  const running = await startGreeterServer({ host: "127.0.0.1", port: 0 });
  t.after(() => running.close());
  const greeterPort = Number(new URL(running.url).port);
  const pageServer = await startSourcePage();
  t.after(() => pageServer.close());
  assert.equal(await exitCode(healthScript(greeter).replace("50051", String(greeterPort))), 0);
  assert.equal(await exitCode(healthScript(page).replace(":8080/", `:${pageServer.port}/`)), 0);
  const nobody = String(DEAD_PORT);
  assert.equal(await exitCode(healthScript(greeter).replace("50051", nobody)), 1);
  assert.equal(await exitCode(healthScript(page).replace(":8080/", `:${nobody}/`)), 1);
});

test("the page server gives the page the proxy's address", async (t) => {
  const pageServer = await startSourcePage();
  t.after(() => pageServer.close());
  const html = await (await fetch(`http://127.0.0.1:${pageServer.port}/`)).text();
  assert.match(html, new RegExp(`<meta name="${PROXY_URL_META}" content="http://localhost:8081" />`));
  assert.equal((await fetch(`http://127.0.0.1:${pageServer.port}/main.css`)).status, 200);
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
