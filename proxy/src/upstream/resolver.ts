import { lookup } from "node:dns/promises";

/** Every address (IPv4 and IPv6) of a host name. Injected in tests; the system's resolver by default. */
export type Resolver = (host: string) => Promise<readonly string[]>;

/** getaddrinfo, as every other program on the machine resolves: /etc/hosts, search domains, A and AAAA. */
export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true })).map(({ address }) => address);

export const DEFAULT_DNS_REFRESH_MS = 10_000;

/**
 * Resolves a host now and every `intervalMs`, so that new replicas behind a name (a Kubernetes
 * headless Service) get calls and removed ones stop getting them. A failed resolution keeps the
 * addresses the last one gave, as gRPC's resolvers do: a DNS hiccup must not empty an upstream.
 */
export class HostWatch {
  /** Settles after the first resolution, whatever its outcome. */
  readonly first: Promise<void>;
  readonly #host: string;
  readonly #resolve: Resolver;
  readonly #intervalMs: number;
  readonly #onAddresses: (addresses: readonly string[]) => void;
  readonly #onError: (error: Error) => void;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    host: string,
    options: {
      readonly resolve: Resolver;
      readonly intervalMs: number;
      readonly onAddresses: (addresses: readonly string[]) => void;
      readonly onError: (error: Error) => void;
    },
  ) {
    this.#host = host;
    this.#resolve = options.resolve;
    this.#intervalMs = options.intervalMs;
    this.#onAddresses = options.onAddresses;
    this.#onError = options.onError;
    this.first = this.#refresh();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #refresh(): Promise<void> {
    try {
      const addresses = await this.#resolve(this.#host);
      if (!this.#stopped) this.#onAddresses(addresses);
    } catch (error) {
      if (!this.#stopped) this.#onError(error as Error);
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#refresh(), this.#intervalMs).unref();
  }
}
