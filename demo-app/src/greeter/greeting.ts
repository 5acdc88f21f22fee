import { Code, ConnectError } from "@connectrpc/connect";

/** The name to greet, or an INVALID_ARGUMENT that tells the caller how to fix the request. */
export function requireName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === "") {
    throw new ConnectError(
      "name must not be empty: type the name of the person to greet",
      Code.InvalidArgument,
    );
  }
  return trimmed;
}

export function greeting(name: string, position?: { index: number; count: number }): string {
  const hello = `Hello, ${name}!`;
  return position ? `${hello} (${position.index} of ${position.count})` : hello;
}
