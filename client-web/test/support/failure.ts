import assert from "node:assert/strict";
import { ConnectError } from "@connectrpc/connect";

/** The error a call rejects with (a promise, or a stream read to its end), asserting it is a ConnectError. */
export async function failure(call: Promise<unknown> | AsyncIterable<unknown>): Promise<ConnectError> {
  try {
    if (call instanceof Promise) await call;
    else for await (const _ of call);
  } catch (error) {
    assert.ok(error instanceof ConnectError, String(error));
    return error;
  }
  assert.fail("the call succeeded");
}
