// Counts the backend's calls still running, and tells the bench over the IPC channel it was
// spawned with. This is how "upstream streams left open after the clients closed" is measured.

let open = 0;

export const openCalls = {
  opened(): void {
    open++;
  },
  closed(): void {
    open--;
  },
};

export const OPEN_CALLS_QUERY = "open-calls?";

export interface OpenCallsAnswer {
  openCalls: number;
}

/**
 * Answers the parent's queries, and exits when the parent goes away (its IPC channel closes), so a
 * bench that crashed leaves no server behind. A no-op when the process was not spawned with IPC.
 */
export function serveTheBench(): void {
  process.on("message", (message) => {
    if (message === OPEN_CALLS_QUERY) process.send?.({ openCalls: open } satisfies OpenCallsAnswer);
  });
  process.on("disconnect", () => process.exit(0));
}
