// Call interceptors: refusals with a gRPC status, metadata edits, failures, and the ready-made bearer check.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { bearerAuth, bearerAuthFromFiles, type CallInterceptor, Code, GrpcError } from "../src/index.js";
import { interceptorChain, RequestMetadata } from "../src/plugin/interceptors.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const PATH = "/helloworld.Greeter/SayHello";
const message = new Uint8Array();

describe("call interceptors", () => {
  let upstream: EchoUpstream;
  const proxies: RunningProxy[] = [];
  before(async () => {
    upstream = await startEchoUpstream();
  });
  after(async () => {
    for (const proxy of proxies) await proxy.close();
    await upstream.close();
  });

  async function proxyWith(...interceptors: CallInterceptor[]): Promise<RunningProxy> {
    const proxy = await startProxy(upstream.url, { interceptors });
    proxies.push(proxy);
    return proxy;
  }

  /** Calls, and says whether the backend saw the call. */
  async function call(proxy: RunningProxy, headers: Record<string, string> = {}, options = {}) {
    const before = upstream.seen.length;
    const result = await grpcWebCall(proxy.url, PATH, { message, headers, ...options });
    return { result, forwarded: upstream.seen.length > before, seen: upstream.seen.at(-1) };
  }

  test("no interceptors: no interception step at all", () => {
    assert.equal(interceptorChain([]), undefined);
    assert.equal(interceptorChain(), undefined);
  });

  test("a refusal reaches the browser with its code and message, and nothing reaches the backend", async () => {
    const proxy = await proxyWith(async ({ method }) =>
      method.endsWith("/SayHello") ? new GrpcError(Code.PERMISSION_DENIED, "not on Sundays") : undefined,
    );
    const { result, forwarded } = await call(proxy);
    assert.equal(result.grpcStatus, Code.PERMISSION_DENIED);
    assert.equal(result.grpcMessage, "not on Sundays");
    assert.equal(forwarded, false);
    // The proxy keeps serving: a call the interceptor lets through goes on.
    const other = await grpcWebCall(proxy.url, "/helloworld.Greeter/SayHelloStreamReply", { message });
    assert.equal(other.grpcStatus, Code.OK);
  });

  test("a thrown GrpcError is a refusal too", async () => {
    const proxy = await proxyWith(() => {
      throw new GrpcError(Code.UNAUTHENTICATED, "who are you?");
    });
    const { result, forwarded } = await call(proxy);
    assert.equal(result.grpcStatus, Code.UNAUTHENTICATED);
    assert.equal(result.grpcMessage, "who are you?");
    assert.equal(forwarded, false);
  });

  test("interceptors see the method and client address, and their metadata edits are what the backend gets", async () => {
    const seenBy: Array<{ method: string; clientAddress: string | undefined; tenant: string | undefined }> =
      [];
    const proxy = await proxyWith(
      ({ method, clientAddress, metadata }) => {
        seenBy.push({ method, clientAddress, tenant: metadata.get("x-tenant") });
        metadata.set("x-user", "alice");
        metadata.delete("x-internal-secret");
        return undefined;
      },
      async ({ metadata }) => {
        // The second runs after the first, and sees its edit.
        await new Promise((resolve) => setTimeout(resolve, 5));
        metadata.set("x-user-seen-by-second", metadata.get("x-user") ?? "nobody");
        return undefined;
      },
    );
    const { result, seen } = await call(proxy, { "x-tenant": "acme", "x-internal-secret": "s3cr3t" });
    assert.equal(result.grpcStatus, Code.OK);
    assert.deepEqual(seenBy, [{ method: PATH, clientAddress: "127.0.0.1", tenant: "acme" }]);
    assert.equal(seen?.["x-user"], "alice");
    assert.equal(seen?.["x-user-seen-by-second"], "alice");
    assert.equal(seen?.["x-tenant"], "acme");
    assert.equal(seen?.["x-internal-secret"], undefined);
  });

  test("a failing interceptor refuses the call with UNKNOWN, never lets it through", async () => {
    const proxy = await proxyWith(() => {
      throw new Error("the auth service is down");
    });
    const { result, forwarded } = await call(proxy);
    assert.equal(result.grpcStatus, Code.UNKNOWN);
    assert.equal(result.grpcMessage, "a call interceptor failed");
    assert.equal(forwarded, false);
  });

  test("an interceptor slower than the call's deadline ends it with DEADLINE_EXCEEDED", async () => {
    // The interceptor answers only after the call has ended, however long the deadline takes on this machine.
    let answer: (refusal: undefined) => void = () => {};
    const proxy = await proxyWith(() => new Promise((resolve) => (answer = resolve)));
    const { result, forwarded } = await call(proxy, { "grpc-timeout": "50m" });
    answer(undefined);
    assert.equal(result.grpcStatus, Code.DEADLINE_EXCEEDED);
    assert.equal(result.grpcMessage, "deadline of 50 ms exceeded at the proxy");
    assert.equal(forwarded, false);
  });

  test("metadata an interceptor may not set is refused at once", () => {
    const metadata = new RequestMetadata({ "x-a": ["1", "2"] });
    assert.equal(metadata.get("X-A"), "1, 2");
    for (const name of ["grpc-status", "content-type", "te", ":path", "x bad", "host"]) {
      assert.throws(() => metadata.set(name, "v"), TypeError, name);
    }
    assert.throws(() => metadata.set("x-ok", "line\nbreak"), TypeError);
    metadata.set("X-Ok", "fine");
    assert.deepEqual(
      [...metadata.entries()],
      [
        ["x-a", "1, 2"],
        ["x-ok", "fine"],
      ],
    );
  });

  describe("bearerAuth", () => {
    test("a token list: a known token passes; none, a wrong one, or another scheme is UNAUTHENTICATED", async () => {
      const proxy = await proxyWith(bearerAuth({ tokens: ["t0ken-1", "t0ken-2"] }));
      const cases: Array<[Record<string, string>, number]> = [
        [{}, Code.UNAUTHENTICATED],
        [{ authorization: "Bearer nope" }, Code.UNAUTHENTICATED],
        [{ authorization: "Basic dDBrZW4tMg==" }, Code.UNAUTHENTICATED],
        [{ authorization: "Bearer t0ken-2" }, Code.OK],
        [{ authorization: "bearer t0ken-1" }, Code.OK],
      ];
      for (const [headers, code] of cases) {
        const { result, forwarded, seen } = await call(proxy, headers);
        assert.equal(result.grpcStatus, code, JSON.stringify(headers));
        assert.equal(forwarded, code === Code.OK);
        if (forwarded)
          assert.equal(seen?.authorization, headers.authorization, "the backend still gets the token");
      }
    });

    test("a JWT signed by the configured public key, with the right issuer and audience, passes", async () => {
      const { publicKey, privateKey } = await generateKeyPair("ES256");
      const otherKey = (await generateKeyPair("ES256")).privateKey;
      const proxy = await proxyWith(
        bearerAuth({ jwt: { key: publicKey, issuer: "https://idp.test", audience: "greeter" } }),
      );
      const token = (claims: { iss?: string; aud?: string; exp?: number }, key = privateKey) =>
        new SignJWT({})
          .setProtectedHeader({ alg: "ES256" })
          .setIssuer(claims.iss ?? "https://idp.test")
          .setAudience(claims.aud ?? "greeter")
          .setExpirationTime(claims.exp ?? "5m")
          .sign(key);
      const expired = Math.floor(Date.now() / 1000) - 3600;
      const cases: Array<[string, string, number]> = [
        ["valid", await token({}), Code.OK],
        ["expired", await token({ exp: expired }), Code.UNAUTHENTICATED],
        ["wrong issuer", await token({ iss: "https://evil.test" }), Code.UNAUTHENTICATED],
        ["wrong audience", await token({ aud: "billing" }), Code.UNAUTHENTICATED],
        ["another key", await token({}, otherKey), Code.UNAUTHENTICATED],
        ["not a JWT", "abc.def.ghi", Code.UNAUTHENTICATED],
      ];
      for (const [what, jwt, code] of cases) {
        const { result, forwarded } = await call(proxy, { authorization: `Bearer ${jwt}` });
        assert.equal(result.grpcStatus, code, what);
        assert.equal(forwarded, code === Code.OK, what);
        if (code !== Code.OK) assert.match(result.grpcMessage ?? "", /bearer token is not valid/, what);
      }
    });

    test("a token signed with a shared secret (HS256) is refused even if its secret were the public key", async () => {
      const { publicKey } = await generateKeyPair("ES256", { extractable: true });
      const proxy = await proxyWith(bearerAuth({ jwt: { key: publicKey } }));
      const secret = new TextEncoder().encode("a shared secret of plenty of bytes!!");
      const hs = await new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("5m")
        .sign(secret);
      const { result, forwarded } = await call(proxy, { authorization: `Bearer ${hs}` });
      assert.equal(result.grpcStatus, Code.UNAUTHENTICATED);
      assert.equal(forwarded, false);
    });

    test("from files: a tokens file, a PEM key and a JWKS, as the CLI reads them", async (t) => {
      const dir = await mkdtemp(join(tmpdir(), "bearer-"));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
      const files = {
        tokens: join(dir, "tokens"),
        pem: join(dir, "key.pem"),
        jwks: join(dir, "jwks.json"),
      };
      await writeFile(files.tokens, "# CI robot\nrobot-token\n\n");
      await writeFile(files.pem, await exportSPKI(publicKey));
      await writeFile(
        files.jwks,
        JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" }] }),
      );
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer("idp")
        .setExpirationTime("5m")
        .sign(privateKey);

      assert.equal(bearerAuthFromFiles({}), undefined);
      assert.throws(() => bearerAuthFromFiles({ jwtIssuer: "idp" }), /needs the JWT key file/);
      assert.throws(
        () => bearerAuthFromFiles({ tokensFile: join(dir, "missing") }),
        /cannot read the bearer tokens file/,
      );
      assert.throws(
        () => bearerAuthFromFiles({ jwtKeyFile: files.tokens }),
        /not a PEM public key, JWK or JWKS/,
      );

      for (const keyFile of [files.pem, files.jwks]) {
        const check = bearerAuthFromFiles({
          tokensFile: files.tokens,
          jwtKeyFile: keyFile,
          jwtIssuer: "idp",
        });
        assert.ok(check);
        const proxy = await proxyWith(check);
        for (const [token, code] of [
          ["robot-token", Code.OK],
          [jwt, Code.OK],
          ["CI robot", Code.UNAUTHENTICATED],
        ] as const) {
          const { result } = await call(proxy, { authorization: `Bearer ${token}` });
          assert.equal(result.grpcStatus, code, `${keyFile}: ${token.slice(0, 12)}`);
        }
      }
    });
  });
});
