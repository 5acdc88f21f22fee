/** What SIGHUP does once the proxy serves. */
export type Reload = (trigger: string) => void;

/**
 * SIGHUP from the moment the process starts to serve. Node's default for it ends the process, and the proxy takes
 * seconds to listen (its upstreams resolved, its ports bound): a SIGHUP in that time, from a config manager that
 * just wrote the file, must not stop it. One that comes before `serve` is held, and reloads once the proxy serves,
 * since the file it read at start may be older than the signal; several held make one reload.
 */
export class ReloadSignal {
  #state:
    | { readonly kind: "starting"; readonly held: boolean }
    | { readonly kind: "serving"; readonly reload: Reload } = { kind: "starting", held: false };

  constructor() {
    process.on("SIGHUP", this.#onSignal);
  }

  /** From now on each SIGHUP reloads; one held while starting reloads now. */
  serve(reload: Reload): void {
    const held = this.#state.kind === "starting" && this.#state.held;
    this.#state = { kind: "serving", reload };
    if (held) reload("SIGHUP while starting");
  }

  /** Leaves SIGHUP to whatever else listens (or to Node's default). */
  close(): void {
    process.off("SIGHUP", this.#onSignal);
  }

  readonly #onSignal = (): void => {
    if (this.#state.kind === "serving") this.#state.reload("SIGHUP");
    else this.#state = { kind: "starting", held: true };
  };
}
