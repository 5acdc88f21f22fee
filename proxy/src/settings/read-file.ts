import { readFileSync } from "node:fs";

/** A file named in the options, read at start-up; an unreadable one is an error saying what it was for. */
export function readFileFor(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TypeError(`cannot read the ${what} file: ${(error as Error).message}`);
  }
}
