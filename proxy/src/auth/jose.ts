import { createRequire } from "node:module";
import type * as Jose from "jose";

const require = createRequire(import.meta.url);

/**
 * jose, loaded when a JWT key is first given: a proxy without JWT auth does not carry it (about 2 MiB of RSS).
 * `require`, because keys are read and interceptors built synchronously; Node >= 20.19 requires ES modules.
 */
export function loadJose(): typeof Jose {
  return require("jose") as typeof Jose;
}
