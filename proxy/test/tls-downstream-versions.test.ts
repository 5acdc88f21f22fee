// TLS versions and suites on the public port: TLS 1.2 with ECDHE and an AEAD cipher, or TLS 1.3, unless
// --tls-legacy-clients (legacyClients) widens them to TLS 1.0 and Node's whole suite list.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { parseCli } from "../src/cli/arguments.js";
import { createTestCa, type TestCa } from "./support/certificates.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

/** What a client with these TLS options ends up with: the version and suite, or why it failed. */
function handshake(port: number, ca: Buffer, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "proxy", ...options });
    socket.once("secureConnect", () => {
      resolve(`${socket.getProtocol()} ${socket.getCipher().name}`);
      socket.end();
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code}`));
  });
}

/** An old client: TLS 1.1 only, at the security level OpenSSL 3 needs for it. */
const TLS_1_1 = { minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" } as const;
/** TLS 1.2 with a CBC suite (no AEAD) only. */
const TLS_1_2_CBC = { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-SHA256" } as const;

describe("downstream TLS versions and suites", () => {
  let ca: TestCa;
  let caPem: Buffer;
  const proxies: RunningProxy[] = [];
  let modern: number;
  let legacy: number;
  before(async () => {
    ca = createTestCa();
    caPem = readFileSync(ca.certFile);
    const keyPair = ca.issue("proxy", "proxy", ["IP:127.0.0.1", "DNS:proxy"]);
    const portOf = (proxy: RunningProxy) => Number(new URL(proxy.url).port);
    const upstream = "http://127.0.0.1:1";
    proxies.push(await startProxy(upstream, { tls: keyPair }));
    proxies.push(await startProxy(upstream, { tls: { ...keyPair, legacyClients: true } }));
    modern = portOf(proxies[0] as RunningProxy);
    legacy = portOf(proxies[1] as RunningProxy);
  });
  after(async () => {
    for (const proxy of proxies) await proxy.close();
    ca?.remove();
  });

  test("by default: TLS 1.3, and TLS 1.2 with ECDHE and AEAD; not TLS 1.1, not a CBC suite", async () => {
    assert.match(await handshake(modern, caPem, {}), /^TLSv1\.3 TLS_/);
    assert.equal(
      await handshake(modern, caPem, { maxVersion: "TLSv1.2" }),
      "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256",
    );
    assert.match(await handshake(modern, caPem, TLS_1_1), /^refused: /);
    assert.match(await handshake(modern, caPem, TLS_1_2_CBC), /^refused: /);
  });

  test("with legacyClients: TLS 1.1 and CBC suites are accepted too", async () => {
    assert.equal(await handshake(legacy, caPem, TLS_1_1), "TLSv1.1 ECDHE-ECDSA-AES256-SHA");
    assert.equal(await handshake(legacy, caPem, TLS_1_2_CBC), "TLSv1.2 ECDHE-ECDSA-AES128-SHA256");
    assert.match(await handshake(legacy, caPem, {}), /^TLSv1\.3 TLS_/);
  });

  test("--tls-legacy-clients reaches the server's TLS options", () => {
    const argv = ["--upstream", "http://127.0.0.1:1", "--tls-cert", ca.certFile, "--tls-key", ca.keyFile];
    const plain = parseCli(argv, {});
    const widened = parseCli([...argv, "--tls-legacy-clients"], {});
    assert.ok(plain.kind === "run" && widened.kind === "run");
    assert.equal(plain.config.proxy.tls?.legacyClients, undefined);
    assert.equal(widened.config.proxy.tls?.legacyClients, true);
  });
});
