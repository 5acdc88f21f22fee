import { protocolError } from "./envelope.js";

/** The one message of a unary or client-streaming reply; INTERNAL for none or more. */
export async function onlyMessage<T>(messages: AsyncIterable<T>): Promise<T> {
  const all = [];
  for await (const message of messages) all.push(message);
  if (all.length !== 1) throw protocolError(`${all.length} messages for a call with one reply`);
  return all[0] as T;
}
