/** What the form asks for, checked before any call is made. */
export interface GreetRequest {
  name: string;
  timeoutMs: number | undefined;
  metadata: [string, string][];
}

/** An empty deadline means none; anything else must be a positive whole number of milliseconds. */
export function parseDeadline(text: string): number | undefined | Error {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (!/^\d+$/.test(trimmed) || Number(trimmed) === 0) {
    return new Error(
      `Deadline must be a positive whole number of milliseconds, or empty for none (got "${text}").`,
    );
  }
  return Number(trimmed);
}

/** Keeps the rows that have a key; header names are case-insensitive, gRPC sends them lower-case. */
export function metadataFromRows(rows: readonly (readonly [string, string])[]): [string, string][] {
  return rows
    .map(([key, value]): [string, string] => [key.trim().toLowerCase(), value.trim()])
    .filter(([key]) => key !== "");
}
