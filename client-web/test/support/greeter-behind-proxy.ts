// A test greeter backend behind the project's proxy, as the client's Node tests call it.
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { type Backend, type BackendKind, startBackend } from "../../../proxy/test/support/backends.js";
import { type RunningProxy, startProxy } from "../../../proxy/test/support/proxy.js";

export interface GreeterBehindProxy {
  readonly backend: Backend;
  readonly proxy: RunningProxy;
  close(): Promise<void>;
}

export async function startGreeterBehindProxy(
  kind: BackendKind = "connect-node",
): Promise<GreeterBehindProxy> {
  const backend = await startBackend(kind);
  const proxy = await startProxy(backend.url);
  return {
    backend,
    proxy,
    async close() {
      // After an aborted fetch, Node's fetch (undici) opens a spare connection that never carries a
      // request; server.close() does not count it as idle and would wait out the proxy's 72 s
      // keep-alive for it, so every connection is cut once closing has begun.
      const closing = proxy.close();
      proxy.app.server.closeAllConnections();
      await closing;
      await backend.close();
    },
  };
}

/**
 * The greeter behind the proxy for a whole test file: started before its tests, stopped after them.
 * Its `backend` and `proxy` are there once the tests run.
 */
export function greeterBehindProxyForFile(kind: BackendKind = "connect-node"): GreeterBehindProxy {
  let started: GreeterBehindProxy | undefined;
  const running = () => started ?? assert.fail("the greeter is not running: read it from a test");
  before(async () => {
    started = await startGreeterBehindProxy(kind);
  });
  after(() => started?.close());
  return {
    get backend() {
      return running().backend;
    },
    get proxy() {
      return running().proxy;
    },
    close: async () => started?.close(),
  };
}
