import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CorsPolicy } from "../src/plugin/cors.js";

describe("CORS policy", () => {
  test("a request without Origin (not a browser) needs no CORS headers", () => {
    assert.deepEqual(new CorsPolicy([]).check({ host: "p.test" }, false), { allowed: true, headers: {} });
  });

  test("default-deny: a cross-origin page is rejected, a same-origin page is not", () => {
    const policy = new CorsPolicy([]);
    assert.deepEqual(policy.check({ origin: "http://evil.test", host: "p.test" }, false), {
      allowed: false,
      origin: "http://evil.test",
    });
    assert.equal(policy.check({ origin: "http://p.test", host: "p.test" }, false).allowed, true);
    assert.equal(policy.check({ origin: "http://p.test", host: "p.test" }, true).allowed, false);
  });

  test("an allowed origin is echoed, case-insensitively and without a trailing slash in the list", () => {
    const verdict = new CorsPolicy(["http://App.test/"]).check({ origin: "http://app.test" }, false);
    assert.deepEqual(verdict, {
      allowed: true,
      headers: { "access-control-allow-origin": "http://app.test", vary: "Origin" },
    });
  });

  test("'*' allows any origin", () => {
    assert.equal(new CorsPolicy(["*"]).check({ origin: "http://any.test" }, false).allowed, true);
  });

  test("preflight allows the gRPC-Web headers plus requested metadata names, and nothing malformed", () => {
    const policy = new CorsPolicy(["http://app.test"]);
    const verdict = policy.check({ origin: "http://app.test" }, false);
    assert.ok(verdict.allowed);
    const headers = policy.preflightHeaders(verdict, {
      "access-control-request-headers": "Content-Type, x-grpc-web, x-user-bin, authorization, bad header",
    });
    assert.equal(
      headers["access-control-allow-headers"],
      "content-type, x-grpc-web, x-user-agent, grpc-timeout, x-user-bin, authorization",
    );
    assert.equal(headers["access-control-allow-methods"], "POST, OPTIONS");
    assert.equal(headers["access-control-allow-origin"], "http://app.test");
  });
});
