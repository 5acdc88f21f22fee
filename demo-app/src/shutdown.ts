/**
 * Runs `stop` on the first Ctrl-C (SIGINT) or SIGTERM. Once everything is closed the event loop is
 * empty and the process exits 0 by itself; a second Ctrl-C gets Node's default and exits at once.
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    console.log(`\n${signal}: stopping…`);
    stop().then(
      () => console.log("Stopped."),
      (error: unknown) => {
        console.error("Could not stop cleanly:", error);
        process.exitCode = 1;
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
