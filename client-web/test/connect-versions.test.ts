// The transport on the oldest and the newest releases its peer ranges allow: the probe is bundled with
// esbuild once per pair, with @connectrpc/connect and @bufbuild/protobuf (and their subpaths) taken
// from aliased installs (root devDependencies connect-oldest, protobuf-oldest, ...) instead of the
// workspace's own, and run in this process against the proxy and a connect-node backend.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Code } from "@connectrpc/connect";
import { build, type Plugin } from "esbuild";
import { type GreeterBehindProxy, startGreeterBehindProxy } from "./support/greeter-behind-proxy.js";
import type { probe as Probe } from "./support/versions-probe.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
let greeter: GreeterBehindProxy;
let scratch: string;

before(async () => {
  greeter = await startGreeterBehindProxy();
  scratch = await mkdtemp(join(tmpdir(), "client-web-versions-"));
});

after(async () => {
  await greeter?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Resolves @connectrpc/connect[/…] and @bufbuild/protobuf[/…] to the aliased packages. */
function swap(connect: string, protobuf: string): Plugin {
  const aliases: Record<string, string> = { "@connectrpc/connect": connect, "@bufbuild/protobuf": protobuf };
  return {
    name: "swap-versions",
    setup(build) {
      build.onResolve({ filter: /^@(connectrpc\/connect|bufbuild\/protobuf)(\/|$)/ }, (args) => {
        const [, name = "", subpath = ""] = /^(@[^/]+\/[^/]+)(.*)$/.exec(args.path) ?? [];
        const alias = aliases[name];
        if (alias === undefined) return undefined;
        return build.resolve(`${alias}${subpath}`, { kind: args.kind, resolveDir: root });
      });
    },
  };
}

async function loadProbe(
  connect: string,
  protobuf: string,
): Promise<{ probe: typeof Probe; versions: string[] }> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("support/versions-probe.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    metafile: true,
    logLevel: "error",
    plugins: [swap(connect, protobuf)],
  });
  const file = join(scratch, `probe-${connect}-${protobuf}.mjs`);
  await writeFile(file, result.outputFiles[0]?.text ?? "");
  // Which packages went into the bundle: the swap must have replaced the workspace's own.
  const versions = [
    ...new Set(
      Object.keys(result.metafile.inputs)
        .map((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1])
        .filter((name) => name !== undefined),
    ),
  ].sort();
  return { probe: (await import(pathToFileURL(file).href)).probe, versions };
}

for (const [connect, protobuf] of [
  ["connect-oldest", "protobuf-oldest"],
  ["connect-newest", "protobuf-newest"],
]) {
  test(`${connect} with ${protobuf}: createClient and createWebClient on the transport`, async () => {
    const { probe, versions } = await loadProbe(connect as string, protobuf as string);
    assert.deepEqual(versions, [connect, protobuf].sort());
    const report = await probe(greeter.proxy.url);
    assert.deepEqual(report, {
      unary: "Hello, v!",
      stream: ["Hello, v! #1", "Hello, v! #2", "Hello, v! #3"],
      trailer: "0",
      smallClient: "Hello, w!",
      intercepted: 6,
      failure: { code: Code.PermissionDenied, rawMessage: "no", metadata: "v", isConnectError: true },
      deadline: Code.DeadlineExceeded,
      cancelled: Code.Canceled,
    });
  });
}
