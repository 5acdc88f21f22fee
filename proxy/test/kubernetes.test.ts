// The Kubernetes manifests, checked statically against the proxy's own code (no cluster runs here):
// the config file they ship parses as the CLI parses it, and names, ports, flags and probes agree.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { execForm, last, parseDockerfile } from "../../test/support/dockerfile.js";
import { parseCli } from "../src/cli/arguments.js";
import { USAGE } from "../src/cli/usage.js";
import { buildAdminServer, ProxyOps } from "../src/index.js";

const DIR = new URL("../../deploy/kubernetes/", import.meta.url).pathname;
const NAME = "grpc-web-bridge";

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field below
type Manifest = Record<string, any>;

const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));
const manifests = new Map<string, Manifest>();
for (const file of files.filter((f) => f !== "kustomization.yaml")) {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), "utf8"));
  for (const doc of docs) {
    assert.deepEqual(doc.errors, [], file);
    const manifest = doc.toJS() as Manifest;
    manifests.set(`${manifest.kind}/${manifest.metadata.name}`, manifest);
  }
}
const get = (key: string): Manifest => {
  const manifest = manifests.get(key);
  assert.ok(manifest, `${key} exists`);
  return manifest;
};

const deployment = get(`Deployment/${NAME}`);
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const containerPort = (name: string): number =>
  container.ports.find((p: Manifest) => p.name === name)?.containerPort;

/** The ConfigMap's bridge.yaml, with its TLS paths pointing at stand-in files, as the CLI reads it. */
function parseShippedConfig() {
  const configMap = get(`ConfigMap/${NAME}`);
  const mount = container.volumeMounts.find((m: Manifest) => m.name === "config");
  assert.equal(container.args[1], mount.mountPath, "--config names the mounted file");
  const tlsMount = container.volumeMounts.find((m: Manifest) => m.name === "tls").mountPath;
  const scratch = mkdtempSync(join(tmpdir(), "k8s-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  for (const file of ["tls.crt", "tls.key"]) writeFileSync(join(scratch, file), "stand-in");
  const text = String(configMap.data[mount.subPath]).replaceAll(`${tlsMount}/`, `${scratch}/`);
  assert.notEqual(text, configMap.data[mount.subPath], "the TLS files live in the tls mount");
  const configFile = join(scratch, "bridge.yaml");
  writeFileSync(configFile, text);
  const parsed = parseCli([...container.args.slice(0, 1), configFile], {});
  assert.equal(parsed.kind, "run", parsed.kind === "error" ? parsed.message : "");
  return parsed.kind === "run" ? parsed.config : assert.fail();
}

describe("deploy/kubernetes", () => {
  const config = parseShippedConfig();

  test("kustomization lists every manifest, and every manifest names its kind and labels the app", () => {
    const kustomization = parseAllDocuments(readFileSync(join(DIR, "kustomization.yaml"), "utf8"))[0]?.toJS();
    assert.deepEqual(
      [...kustomization.resources].sort(),
      files.filter((f) => f !== "kustomization.yaml").sort(),
    );
    for (const [key, manifest] of manifests) {
      assert.ok(manifest.apiVersion, key);
      assert.ok(manifest.metadata.labels?.["app.kubernetes.io/name"], `${key} has the app label`);
    }
  });

  test("the shipped config file is valid, and its ports are the container's", () => {
    assert.equal(config.port, containerPort("https"));
    assert.equal(config.admin?.port, containerPort("admin"));
    assert.equal(config.host, "0.0.0.0", "reachable on the pod IP");
    assert.ok(config.proxy.tls, "TLS on, so browsers get HTTP/2");
    assert.equal(config.workers, 1, "one process per pod");
  });

  test("every flag in the container's args is one the CLI knows", () => {
    for (const arg of container.args.filter((a: string) => a.startsWith("--"))) {
      assert.match(USAGE, new RegExp(`^  ${arg} `, "m"), arg);
    }
  });

  test("probes ask the admin port for paths the admin server answers", async () => {
    const admin = buildAdminServer(new ProxyOps({ processMetrics: false }));
    after(() => admin.close());
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      const { path, port } = container[probe].httpGet;
      assert.equal(port, "admin", probe);
      const response = await admin.inject({ method: "GET", url: path });
      assert.notEqual(response.statusCode, 404, `${probe} ${path}`);
    }
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    const annotations = deployment.spec.template.metadata.annotations;
    assert.equal(Number(annotations["prometheus.io/port"]), containerPort("admin"));
    const metrics = await admin.inject({ method: "GET", url: annotations["prometheus.io/path"] });
    assert.equal(metrics.statusCode, 200);
  });

  test("the grace period outlasts the preStop pause plus the proxy's drain timeout", () => {
    const preStopMs = container.lifecycle.preStop.sleep.seconds * 1000;
    assert.ok(
      pod.terminationGracePeriodSeconds * 1000 > preStopMs + config.drainTimeoutMs,
      `${pod.terminationGracePeriodSeconds}s > ${preStopMs} ms + ${config.drainTimeoutMs} ms`,
    );
  });

  test("the Service, PDB and HPA point at the Deployment's pods, and the Service exposes only the public port", () => {
    const labels = deployment.spec.template.metadata.labels;
    assert.deepEqual(deployment.spec.selector.matchLabels, labels);
    const service = get(`Service/${NAME}`);
    assert.deepEqual(service.spec.selector, labels);
    assert.deepEqual(
      service.spec.ports.map((p: Manifest) => p.targetPort),
      ["https"],
    );
    assert.deepEqual(get(`PodDisruptionBudget/${NAME}`).spec.selector.matchLabels, labels);
    const hpa = get(`HorizontalPodAutoscaler/${NAME}`);
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: NAME });
    assert.ok(hpa.spec.minReplicas >= 2, "a PDB of maxUnavailable 1 leaves one serving");
    assert.ok(container.resources.requests.cpu, "CPU utilization needs a CPU request");
  });

  test("the upstream is a dns:/// name of the headless Service, on its port", () => {
    const headless = get("Service/greeter-headless");
    assert.equal(headless.spec.clusterIP, "None");
    const addresses = Object.values(config.proxy.upstreams ?? {}).flatMap((u) => u.addresses);
    assert.deepEqual(addresses, [
      `dns:///${headless.metadata.name}.${headless.metadata.namespace}.svc.cluster.local:${headless.spec.ports[0].port}`,
    ]);
  });

  test("the TLS Secret is mounted as a directory, so renewals reach the pod and are reloaded", () => {
    const mount = container.volumeMounts.find((m: Manifest) => m.name === "tls");
    assert.equal(mount.subPath, undefined);
    const volume = pod.volumes.find((v: Manifest) => v.name === "tls");
    assert.ok(volume.secret.secretName);
  });

  test("the Deployment runs proxy/Dockerfile's image as it is built: tag, command, ports, user, config path", () => {
    const stages = parseDockerfile(readFileSync(new URL("../Dockerfile", import.meta.url), "utf8"));
    const image = stages.at(-1);
    assert.ok(image);
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    assert.equal(container.image, `${NAME}:${version}`);
    assert.deepEqual(execForm(last(image, "ENTRYPOINT") ?? ""), ["node", "proxy/dist/cli.js"]);
    assert.deepEqual(container.command, undefined, "the image's entry point, not another");
    assert.deepEqual(
      container.args,
      execForm(last(image, "CMD") ?? ""),
      "args are the image's default command",
    );
    const exposed = (last(image, "EXPOSE") ?? "").split(/\s+/).map(Number).sort();
    assert.deepEqual(exposed, container.ports.map((p: Manifest) => p.containerPort).sort());
    const [uid, gid] = (last(image, "USER") ?? "").split(":").map(Number);
    assert.equal(uid, pod.securityContext.runAsUser);
    assert.ok(pod.securityContext.runAsNonRoot && uid !== 0 && gid !== 0, "non-root, numerically");
    assert.ok(/^HEALTHCHECK .*CMD \[/.test(`HEALTHCHECK ${last(image, "HEALTHCHECK")}`), "a HEALTHCHECK");
    for (const stage of stages) assert.equal(stage.base, "node:22-slim");
  });
});
