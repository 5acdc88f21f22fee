// Bearer JWTs over real sockets: the claims that bound a token's life in time, and refusals that
// tell the browser the cause in fixed words while the verifier's own reason stays in the proxy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { generateKeyPair, type KeyObject, SignJWT } from "jose";
import { TOKEN_REFUSALS } from "../src/auth/bearer.js";
import { bearerAuth, Code } from "../src/index.js";
import { type EchoUpstream, startEchoUpstream } from "./support/echo-upstream.js";
import { grpcWebCall } from "./support/grpc-web-client.js";
import { type RunningProxy, startProxy } from "./support/proxy.js";

const PATH = "/helloworld.Greeter/SayHello";
const now = () => Math.floor(Date.now() / 1000);

interface Claims {
  iss?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
}

describe("bearer JWTs: time claims and refusal texts", () => {
  let upstream: EchoUpstream;
  let privateKey: KeyObject;
  let strict: RunningProxy;
  let lenient: RunningProxy;
  before(async () => {
    upstream = await startEchoUpstream();
    const keys = await generateKeyPair("ES256");
    privateKey = keys.privateKey as KeyObject;
    strict = await startProxy(upstream.url, {
      interceptors: [bearerAuth({ jwt: { key: keys.publicKey, issuer: "idp" } })],
    });
    lenient = await startProxy(upstream.url, {
      interceptors: [bearerAuth({ jwt: { key: keys.publicKey, issuer: "idp", allowNoExpiry: true } })],
    });
  });
  after(async () => {
    await strict?.close();
    await lenient?.close();
    await upstream?.close();
  });

  function token({ iss = "idp", exp, iat, nbf }: Claims): Promise<string> {
    const jwt = new SignJWT({}).setProtectedHeader({ alg: "ES256" }).setIssuer(iss);
    if (exp !== undefined) jwt.setExpirationTime(exp);
    if (iat !== undefined) jwt.setIssuedAt(iat);
    if (nbf !== undefined) jwt.setNotBefore(nbf);
    return jwt.sign(privateKey);
  }

  async function call(proxy: RunningProxy, jwt: string) {
    const before = upstream.seen.length;
    const result = await grpcWebCall(proxy.url, PATH, {
      message: new Uint8Array(),
      headers: { authorization: `Bearer ${jwt}` },
    });
    return { ...result, forwarded: upstream.seen.length > before };
  }

  const cases: Array<[string, Claims, string | undefined]> = [
    ["an unexpired token with exp", { exp: now() + 300 }, undefined],
    ["a token without exp", {}, TOKEN_REFUSALS.noExpiry],
    ["an expired token", { exp: now() - 3600 }, TOKEN_REFUSALS.expired],
    ["a token issued an hour from now", { exp: now() + 7200, iat: now() + 3600 }, TOKEN_REFUSALS.notYetValid],
    ["a token issued 10 s ahead (within the 30 s skew)", { exp: now() + 300, iat: now() + 10 }, undefined],
    [
      "a token not valid before an hour from now",
      { exp: now() + 7200, nbf: now() + 3600 },
      TOKEN_REFUSALS.notYetValid,
    ],
    ["a token of another issuer", { iss: "evil", exp: now() + 300 }, TOKEN_REFUSALS.claims],
  ];
  for (const [what, claims, refusal] of cases) {
    test(`${what}: ${refusal === undefined ? "let in" : `refused with "${refusal}"`}`, async () => {
      const result = await call(strict, await token(claims));
      assert.equal(result.grpcStatus, refusal === undefined ? Code.OK : Code.UNAUTHENTICATED);
      assert.equal(result.forwarded, refusal === undefined);
      if (refusal !== undefined) assert.equal(result.grpcMessage, refusal);
    });
  }

  test("a malformed token gets the fixed text, never the verifier's reason", async () => {
    const result = await call(strict, "abc.def.ghi");
    assert.equal(result.grpcStatus, Code.UNAUTHENTICATED);
    assert.equal(result.grpcMessage, TOKEN_REFUSALS.invalid);
  });

  test("allowNoExpiry lets a token without exp in, and still refuses an expired one", async () => {
    assert.equal((await call(lenient, await token({}))).grpcStatus, Code.OK);
    const expired = await call(lenient, await token({ exp: now() - 3600 }));
    assert.equal(expired.grpcStatus, Code.UNAUTHENTICATED);
    assert.equal(expired.grpcMessage, TOKEN_REFUSALS.expired);
  });
});
