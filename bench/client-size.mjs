// Bundle size of a minimal greeter app: one unary and one streaming call, each with a deadline and
// metadata, bundled the way a front-end build would (esbuild --bundle --minify --format=esm). Its
// variants: on this package's small client, on connect's createClient with this package's transport,
// on stock connect-web, and the protobuf floor that any protoc-gen-es v2 app pays. Prints raw and
// gzip -9 bytes and where the bytes go. Each of this package's variants has the target issue 18 set
// and a ceiling: the script exits 1 over a ceiling (so that `npm test` catches any growth, compression
// code that should have been tree-shaken included), and names a target not yet met.
//   npm run bench:client-size [-- --json]
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const app = (imports, client) => `
    ${imports}
    import { Greeter } from "@grpc-web-bridge/client-web/greeter";
    const client = ${client};
    export async function main() {
      const reply = await client.sayHello({ name: "web" }, { timeoutMs: 1000, headers: { "x-user": "ada" } });
      for await (const r of client.sayHelloStreamReply({ name: "web" }, { timeoutMs: 1000, headers: { "x-user": "ada" } })) console.log(r.message);
      return reply.message;
    }`;

const bidiApp = (imports, createClient) => `
    ${imports}
    import { createWebSocketTransport } from "@grpc-web-bridge/client-web/websocket";
    import { Greeter } from "@grpc-web-bridge/client-web/greeter";
    const client = ${createClient}(Greeter, createWebSocketTransport({ baseUrl: "https://api.example.com", defaultTimeoutMs: 5000 }));
    async function* names() { yield { name: "web" }; }
    export async function main() {
      const reply = await client.sayHello({ name: "web" }, { timeoutMs: 1000, headers: { "x-user": "ada" } });
      for await (const r of client.sayHelloStreamReply({ name: "web" }, { timeoutMs: 1000, headers: { "x-user": "ada" } })) console.log(r.message);
      for await (const r of client.sayHelloBidiStream(names(), { timeoutMs: 1000, headers: { "x-user": "ada" } })) console.log(r.message);
      return reply.message;
    }`;

// Each variant with its target and ceiling in gzip bytes (none for the references). The greeter app
// imports none of the opt-in parts (explainErrors, errorDetails, gzip, the websocket subpath), so none
// of their code is in its bundle. createClient's ceiling is its target; createWebClient's target is out of reach
// with what the greeter app needs (see client-web/README.md, Size), and its ceiling is its size now, rounded up,
// so that any growth fails.
const entries = {
  "this client (createWebClient)": {
    target: 20_000,
    ceiling: 21_000,
    contents: app(
      `import { createGrpcWebTransport, createWebClient } from "@grpc-web-bridge/client-web";`,
      `createWebClient(Greeter, createGrpcWebTransport({ baseUrl: "https://api.example.com", defaultTimeoutMs: 5000 }))`,
    ),
  },
  "connect createClient + this transport": {
    target: 22_000,
    ceiling: 22_000,
    contents: app(
      `import { createClient } from "@connectrpc/connect";
    import { createGrpcWebTransport } from "@grpc-web-bridge/client-web";`,
      `createClient(Greeter, createGrpcWebTransport({ baseUrl: "https://api.example.com", defaultTimeoutMs: 5000 }))`,
    ),
  },
  // What the opt-in error interceptors add when an app uses them.
  "connect createClient + this transport, with explainErrors and errorDetails": {
    contents: app(
      `import { createClient } from "@connectrpc/connect";
    import { createGrpcWebTransport, errorDetails, explainErrors } from "@grpc-web-bridge/client-web";`,
      `createClient(Greeter, createGrpcWebTransport({ baseUrl: "https://api.example.com", defaultTimeoutMs: 5000, interceptors: [explainErrors, errorDetails] }))`,
    ),
  },
  // What gzip message compression adds when an app uses it (the two above must not carry any of it).
  "this client (createWebClient) with gzip": {
    contents: app(
      `import { createGrpcWebTransport, createWebClient, gzip } from "@grpc-web-bridge/client-web";`,
      `createWebClient(Greeter, createGrpcWebTransport({ baseUrl: "https://api.example.com", defaultTimeoutMs: 5000, compression: gzip }))`,
    ),
  },
  // The greeter app plus one bidi call over a WebSocket: what the websocket subpath adds when an app uses it,
  // with each client.
  "this client (createWebClient) + WebSocket transport, with a bidi call": {
    contents: bidiApp(`import { createWebClient } from "@grpc-web-bridge/client-web";`, "createWebClient"),
  },
  "connect createClient + WebSocket transport, with a bidi call": {
    contents: bidiApp(`import { createClient } from "@connectrpc/connect";`, "createClient"),
  },
  "connect-web (stock)": {
    contents: app(
      `import { createClient } from "@connectrpc/connect";
    import { createGrpcWebTransport } from "@connectrpc/connect-web";`,
      `createClient(Greeter, createGrpcWebTransport({ baseUrl: "https://api.example.com", defaultTimeoutMs: 5000 }))`,
    ),
  },
  // What any protoc-gen-es v2 app pays before making a call: the generated descriptors, which
  // embed descriptor.proto, and the binary codec.
  "floor: generated code + binary codec": {
    contents: `
    import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
    import { HelloReplySchema, HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
    export const encode = (name) => toBinary(HelloRequestSchema, create(HelloRequestSchema, { name }));
    export const decode = (bytes) => fromBinary(HelloReplySchema, bytes).message;`,
  },
  // The floor plus what connect's one error type costs every app that reports errors as ConnectError:
  // the class, the Code enum and its names.
  "floor + ConnectError": {
    contents: `
    import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
    import { Code, ConnectError } from "@connectrpc/connect";
    import { HelloReplySchema, HelloRequestSchema } from "@grpc-web-bridge/client-web/greeter";
    export const encode = (name) => toBinary(HelloRequestSchema, create(HelloRequestSchema, { name }));
    export const decode = (bytes) => fromBinary(HelloReplySchema, bytes).message;
    export const fail = (message) => new ConnectError(message, Code.Internal);`,
  },
};

async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: import.meta.dirname, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    // Resolve the workspace package to its TypeScript sources, so no build step is needed first.
    conditions: ["source"],
    write: false,
    metafile: true,
    logLevel: "error",
  });
  const code = result.outputFiles[0].contents;
  const output = Object.values(result.metafile.outputs)[0];
  return { raw: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs: output.inputs };
}

// Groups module paths into packages (or package sub-folders), biggest first.
function breakdown(inputs) {
  const byGroup = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const inPackage = path.split("node_modules/").at(-1);
    const group = inPackage
      .replace(/\/dist\/(esm|cjs)/, "")
      .split("/")
      .slice(0, 3)
      .join("/");
    byGroup.set(group, (byGroup.get(group) ?? 0) + bytesInOutput);
  }
  return [...byGroup].sort((a, b) => b[1] - a[1]);
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
const results = {};
for (const [name, { contents }] of Object.entries(entries)) results[name] = await measure(contents);

if (process.argv.includes("--json")) {
  const summary = Object.fromEntries(
    Object.entries(results).map(([n, r]) => [n, { raw: r.raw, gzip: r.gzip }]),
  );
  console.log(JSON.stringify(summary, null, 2));
} else {
  for (const [name, { raw, gzip, inputs }] of Object.entries(results)) {
    console.log(`${name}: ${raw} bytes raw, ${gzip} bytes gzip -9 (${kB(gzip)})`);
    for (const [group, bytes] of breakdown(inputs).slice(0, 8)) {
      console.log(`  ${kB(bytes).padStart(8)} raw  ${group}`);
    }
  }
}
const floor = results["floor: generated code + binary codec"].gzip;
for (const [name, { target, ceiling }] of Object.entries(entries)) {
  if (ceiling === undefined) continue;
  const { gzip } = results[name];
  if (!process.argv.includes("--json")) {
    console.log(
      `${name}: ${kB(gzip - floor)} gzip over the floor; target ${kB(target)}, ceiling ${kB(ceiling)}`,
    );
  }
  if (gzip > target) console.warn(`target not met: ${name} is ${gzip} > ${target} bytes gzip`);
  if (gzip > ceiling) {
    console.error(`over the ceiling: ${name} is ${gzip} > ${ceiling} bytes gzip`);
    process.exitCode = 1;
  }
}
