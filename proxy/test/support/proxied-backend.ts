// A test backend behind a proxy whose ProxyOps the test holds, for tests that read the proxy's counters or drain it.
import { ProxyOps } from "../../src/index.js";
import { type Backend, type BackendKind, startBackend } from "./backends.js";
import { type RunningProxy, startProxy } from "./proxy.js";

export interface ProxiedBackend {
  readonly backend: Backend;
  readonly proxy: RunningProxy;
  readonly ops: ProxyOps;
  close(): Promise<void>;
}

export async function startProxiedBackend(kind: BackendKind): Promise<ProxiedBackend> {
  const backend = await startBackend(kind);
  const ops = new ProxyOps({ processMetrics: false });
  const proxy = await startProxy(backend.url, { ops });
  return {
    backend,
    proxy,
    ops,
    close: async () => {
      await proxy.close();
      await backend.close();
    },
  };
}
