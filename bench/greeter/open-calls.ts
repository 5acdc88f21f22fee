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

/** Answers the parent's queries; a no-op when the process was not spawned with IPC. */
export function answerOpenCallQueries(): void {
  process.on("message", (message) => {
    if (message === OPEN_CALLS_QUERY) process.send?.({ openCalls: open } satisfies OpenCallsAnswer);
  });
}
