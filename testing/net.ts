import { createServer } from "node:net";

/**
 * A port nothing can ever listen on, for an address that must refuse connections: binding port 0 asks the
 * kernel for any free port, so no socket is ever bound to port 0 itself, and Linux answers a connect() to it
 * with ECONNREFUSED at once. A port from `freePort()` is only free until someone takes it (another test file,
 * another program on this machine), and 127.0.0.1:1 is bindable by root, which tests here run as.
 */
export const DEAD_PORT = 0;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
