import type { StreamingBrowserSide, UpstreamSide } from "./ports.js";

/**
 * The request half of a call whose browser streams it (a WebSocket): each chunk goes upstream as it
 * arrives, its frames already checked by the browser side's protocol reader. Until the upstream
 * stream is open (the interceptors are deciding) chunks are held and the browser's reading paused,
 * so what waits here is bounded by one read from its socket; a backend that is not keeping up
 * pauses the browser's reading until its stream drains.
 */
export class StreamedRequest {
  readonly #browser: StreamingBrowserSide;
  readonly #upstream: UpstreamSide;
  #phase: "holding" | "forwarding" = "holding";
  #held: Buffer[] = [];
  /** The browser finished sending. */
  #ended = false;
  #bytes = 0;

  constructor(browser: StreamingBrowserSide, upstream: UpstreamSide) {
    this.#browser = browser;
    this.#upstream = upstream;
  }

  /** Request bytes received from the browser (and forwarded, or about to be). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Nothing went upstream yet, so a stream the backend never saw can be sent again whole. */
  get resendable(): boolean {
    return this.#bytes === 0;
  }

  push(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#phase === "holding") {
      this.#held.push(chunk);
      this.#browser.pauseRequest();
    } else if (!this.#upstream.write(chunk)) {
      this.#browser.pauseRequest();
    }
  }

  end(): void {
    this.#ended = true;
    if (this.#phase === "forwarding") this.#upstream.endRequest();
  }

  /** The upstream stream was sent without a body: what was held goes now, and the browser's reading resumes. */
  opened(): void {
    this.#phase = "forwarding";
    const held = this.#held;
    this.#held = [];
    let keepingUp = true;
    for (const chunk of held) keepingUp = this.#upstream.write(chunk);
    if (this.#ended) this.#upstream.endRequest();
    if (keepingUp) this.#browser.resumeRequest();
  }

  /** The backend caught up. */
  drained(): void {
    this.#browser.resumeRequest();
  }
}
