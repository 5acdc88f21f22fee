// TLS on both sides: browsers reach the proxy over HTTP/2 or HTTP/1.1 on one TLS port (ALPN), the
// certificate is reloaded when its files change, and the proxy checks (and proves itself to) an
// https:// or dns+https:/// backend: CA, server name, client certificate, and the insecure switch.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import http2, { type IncomingHttpHeaders } from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, type TestContext, test } from "node:test";
import tls, { type TLSSocket } from "node:tls";
import { launchChromium } from "../../testing/browser.js";
import { waitFor } from "../../testing/net.js";
import { Code, type ServerOptions } from "../src/index.js";
import type { Resolver } from "../src/upstream/resolver.js";
import { createTestCa, type TestCa } from "./support/certificates.js";
import { startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { h2WebCall } from "./support/h2-web-call.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const PATH = "/helloworld.Greeter/SayHello";
const message = new Uint8Array();

let ca: TestCa;
before(() => {
  ca = createTestCa();
});
after(() => ca.remove());

/** The proxy on TLS; `url` is its https:// address. */
async function startTlsProxy(upstream: string, options: Omit<ServerOptions, "upstream"> = {}) {
  const files = ca.issue(`proxy-${Math.random().toString(36).slice(2)}`, "proxy", ["IP:127.0.0.1"]);
  const proxy = await startProxy(upstream, { ...options, tls: { ...files, reloadIntervalMs: 50 } });
  return { ...proxy, url: proxy.url.replace("http:", "https:"), files };
}

describe("downstream TLS", () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let proxy: RunningProxy & { files: { certFile: string; keyFile: string } };
  before(async () => {
    upstream = await startEchoUpstream();
    proxy = await startTlsProxy(upstream.url);
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  test("a TLS client that offers h2 gets HTTP/2, and its gRPC-Web call goes through with :authority as the host", async (t) => {
    const session = http2.connect(proxy.url, { ca: readFileSync(ca.certFile) });
    t.after(() => session.close());
    const origin = proxy.url;
    const result = await h2WebCall(session, PATH, { message, headers: { origin, "x-tenant": "acme" } });
    assert.equal((session.socket as TLSSocket).alpnProtocol, "h2");
    assert.equal(result.headers[":status"], 200);
    assert.equal(result.grpcStatus, Code.OK);
    // Same-origin over HTTP/2: the origin matches :authority, so no CORS refusal.
    const seen = upstream.seen.at(-1) as IncomingHttpHeaders;
    assert.equal(seen["x-tenant"], "acme");
    assert.equal(seen["x-forwarded-host"], new URL(proxy.url).host);
    assert.equal(seen[":authority"] === undefined, false);
  });

  test("several calls share one HTTP/2 connection, and a refused one leaves the others alone", async (t) => {
    const session = http2.connect(proxy.url, { ca: readFileSync(ca.certFile) });
    t.after(() => session.close());
    const [a, refused, b] = await Promise.all([
      h2WebCall(session, PATH, { message }),
      h2WebCall(session, "/helloworld.Greeter/Say-Hello", { message }),
      h2WebCall(session, PATH, { message }),
    ]);
    assert.equal(a.grpcStatus, Code.OK);
    assert.equal(refused.grpcStatus, Code.UNIMPLEMENTED);
    assert.equal(b.grpcStatus, Code.OK);
    assert.equal(session.closed, false);
  });

  test("a client that offers only http/1.1 gets HTTP/1.1 on the same port", async () => {
    const result = await new Promise<{ protocol: string | false | null; status: number; grpcStatus: string }>(
      (resolve, reject) => {
        const request = https.request(`${proxy.url}${PATH}`, {
          method: "POST",
          // A connection of its own, offering only HTTP/1.1 (as an old browser or curl --http1.1 would).
          agent: new https.Agent({
            ca: readFileSync(ca.certFile),
            ALPNProtocols: ["http/1.1"],
          } as https.AgentOptions),
          headers: { "content-type": "application/grpc-web+proto" },
        });
        request.once("error", reject);
        request.once("response", (response) => {
          response.resume();
          response.once("end", () =>
            resolve({
              protocol: (response.socket as TLSSocket).alpnProtocol,
              status: response.statusCode ?? 0,
              grpcStatus: String(response.headers["grpc-status"] ?? "trailer frame"),
            }),
          );
        });
        request.end(Buffer.alloc(5));
      },
    );
    assert.equal(result.protocol, "http/1.1");
    assert.equal(result.status, 200);
  });

  test("Chromium speaks HTTP/2 to the proxy, and its fetch of a gRPC-Web call gets the status", async (t) => {
    const browser = await launchChromium();
    t.after(() => browser.close());
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    // Any page of the proxy's own origin, so the call is same-origin.
    await page.goto(`${proxy.url}/`);
    const seen = await page.evaluate(async (path) => {
      const response = await fetch(path, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: new Uint8Array(5),
      });
      await response.arrayBuffer();
      const [entry] = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
      return { grpcStatus: response.headers.get("grpc-status"), protocol: entry?.nextHopProtocol };
    }, PATH);
    assert.deepEqual(seen, { grpcStatus: "0", protocol: "h2" });
  });

  test("new certificate files are served to new connections, without a restart", async () => {
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const port = Number(new URL(proxy.url).port);
        const socket = tls.connect({
          host: "127.0.0.1",
          port,
          ca: readFileSync(ca.certFile),
          ALPNProtocols: ["h2"],
        });
        socket.once("error", reject);
        socket.once("secureConnect", () => {
          resolve(socket.getPeerCertificate().serialNumber);
          socket.destroy();
        });
      });
    const before = await serial();
    const renewed = ca.issue("renewed", "proxy", ["IP:127.0.0.1"]);
    copyFileSync(renewed.keyFile, proxy.files.keyFile);
    copyFileSync(renewed.certFile, proxy.files.certFile);
    const after = await waitFor(async () => {
      const now = await serial();
      return now === before ? undefined : now;
    }, 10_000);
    assert.notEqual(after, before);
    // And calls go on over the new certificate.
    const session = http2.connect(proxy.url, { ca: readFileSync(ca.certFile) });
    const result = await h2WebCall(session, PATH, { message });
    session.close();
    assert.equal(result.grpcStatus, Code.OK);
  });
});

describe("upstream TLS", () => {
  /** An https:// gRPC backend that answers OK and names the client certificate it got, if any. */
  async function startTlsBackend(
    t: TestContext,
    altNames: string[],
    requireClientCert = false,
  ): Promise<string> {
    const files = ca.issue(`backend-${altNames.join("-").replace(/\W/g, "")}`, "backend", altNames);
    const server = http2.createSecureServer({
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
      ca: readFileSync(ca.certFile),
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
    });
    server.on("stream", (stream) => {
      const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
      stream.resume();
      stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "0",
          "x-client-cert": peer?.subject?.CN ?? "none",
        },
        { endStream: true },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("session", (session) => sessions.add(session));
    t.after(
      () =>
        new Promise<void>((resolve) => {
          for (const session of sessions) session.destroy();
          server.close(() => resolve());
        }),
    );
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function callThrough(upstream: string, options: Omit<ServerOptions, "upstream">) {
    const proxy = await startProxy(upstream, options);
    try {
      const result = await grpcWebCall(proxy.url, PATH, { message });
      return { status: result.grpcStatus, clientCert: String(result.headers["x-client-cert"] ?? "") };
    } finally {
      await proxy.close();
    }
  }

  test("the backend's certificate is checked against the given CA", async (t) => {
    const url = await startTlsBackend(t, ["IP:127.0.0.1"]);
    const trusted = await callThrough(url, { upstreamTls: { caFile: ca.certFile } });
    assert.equal(trusted.status, Code.OK);
    assert.equal(trusted.clientCert, "none");
    // Without the CA, Node's public CAs do not know it: the call fails, nothing is sent in clear.
    const untrusted = await callThrough(url, {});
    assert.equal(untrusted.status, Code.UNAVAILABLE);
  });

  test("a server name override checks the certificate for that name, not the address", async (t) => {
    const url = await startTlsBackend(t, ["DNS:greeter.internal"]);
    const byAddress = await callThrough(url, { upstreamTls: { caFile: ca.certFile } });
    assert.equal(byAddress.status, Code.UNAVAILABLE);
    const byName = await callThrough(url, {
      upstreamTls: { caFile: ca.certFile, serverName: "greeter.internal" },
    });
    assert.equal(byName.status, Code.OK);
  });

  test("dns+https:/// connects to each resolved address with TLS, checked against the DNS name", async (t) => {
    // The certificate names only the DNS name: a check against the resolved 127.0.0.1 would fail.
    const { port } = new URL(await startTlsBackend(t, ["DNS:greeter.test"]));
    const upstream = `dns+https:///greeter.test:${port}`;
    const resolveHost: Resolver = async (host) => (host === "greeter.test" ? ["127.0.0.1"] : []);
    const trusted = await callThrough(upstream, { resolveHost, upstreamTls: { caFile: ca.certFile } });
    assert.equal(trusted.status, Code.OK);
    const wrongCa = createTestCa();
    t.after(() => wrongCa.remove());
    const untrusted = await callThrough(upstream, { resolveHost, upstreamTls: { caFile: wrongCa.certFile } });
    assert.equal(untrusted.status, Code.UNAVAILABLE);
  });

  test("mTLS: a backend that requires a client certificate gets the proxy's", async (t) => {
    const url = await startTlsBackend(t, ["IP:127.0.0.1"], true);
    const anonymous = await callThrough(url, { upstreamTls: { caFile: ca.certFile } });
    assert.equal(anonymous.status, Code.UNAVAILABLE);
    const client = ca.issue("proxy-client", "grpc-web-bridge");
    const identified = await callThrough(url, {
      upstreamTls: { caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile },
    });
    assert.equal(identified.status, Code.OK);
    assert.equal(identified.clientCert, "grpc-web-bridge");
  });

  test("insecure skip-verify connects to anything, and says so loudly at start", async (t) => {
    const url = await startTlsBackend(t, ["DNS:elsewhere.test"]);
    const lines: string[] = [];
    const stream = { write: (line: string) => lines.push(line) };
    const result = await callThrough(url, {
      upstreamTls: { insecureSkipVerify: true },
      logger: { level: "warn", stream },
    });
    assert.equal(result.status, Code.OK);
    const warning = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .find((l) => l.level === 40);
    assert.match(warning?.msg ?? "", /NOT VERIFIED/);
  });

  test("bad TLS settings stop the proxy at start, naming the problem", async () => {
    await assert.rejects(
      startProxy("https://127.0.0.1:1", { upstreamTls: { caFile: "/nonexistent/ca.pem" } }),
      /cannot read the upstream CA file/,
    );
    await assert.rejects(
      startProxy("https://127.0.0.1:1", { upstreamTls: { certFile: ca.certFile } }),
      /needs both its certificate and its key file/,
    );
  });
});
