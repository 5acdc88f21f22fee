import assert from "node:assert/strict";
import { test } from "node:test";
import { demoConfig } from "../src/config.js";

test("by default the demo is on localhost:8080 and starts its own greeter on 127.0.0.1:50051", () => {
  assert.deepEqual(demoConfig({}), {
    host: "localhost",
    port: 8080,
    adminPort: undefined,
    greeterHost: "127.0.0.1",
    greeterPort: 50051,
    greeterUrl: undefined,
    proxyUrl: undefined,
  });
});

test("PORT, HOST, ADMIN_PORT, GREETER_PORT, GREETER_HOST, GREETER_URL and PROXY_URL override the defaults", () => {
  const env = {
    PORT: "9000",
    ADMIN_PORT: "9090",
    HOST: "0.0.0.0",
    GREETER_PORT: "0",
    GREETER_HOST: "::1",
    GREETER_URL: "http://greeter:50051",
    PROXY_URL: "http://localhost:8081",
  };
  assert.deepEqual(demoConfig(env), {
    host: "0.0.0.0",
    port: 9000,
    adminPort: 9090,
    greeterHost: "::1",
    greeterPort: 0,
    greeterUrl: "http://greeter:50051",
    proxyUrl: "http://localhost:8081",
  });
});

test("a bad port is an error naming the variable", () => {
  for (const [name, value] of [
    ["PORT", "eighty"],
    ["GREETER_PORT", "70000"],
    ["ADMIN_PORT", "-1"],
  ] as const) {
    const result = demoConfig({ [name]: value });
    assert.ok(result instanceof Error);
    assert.equal(result.message, `${name} must be a port number from 0 to 65535, got "${value}"`);
  }
});

test("a PROXY_URL that is not a URL is an error naming it", () => {
  const config = demoConfig({ PROXY_URL: "localhost:8081" });
  assert.ok(config instanceof Error);
  assert.match(config.message, /^PROXY_URL must be a URL/);
});
