import type { ClientHttp2Stream, OutgoingHttpHeaders, SecureClientSessionOptions } from "node:http2";
import { Code, GrpcError } from "../protocol/status.js";
import { describeAddress, hostPort, type UpstreamAddress } from "./address.js";
import { type EjectionOptions, Endpoint, type UpstreamLog } from "./endpoint.js";
import type { PoolOptions, SessionStates, UpstreamTarget } from "./pool.js";
import { DEFAULT_DNS_REFRESH_MS, HostWatch, type Resolver, systemResolver } from "./resolver.js";

export interface UpstreamInit {
  /** The upstream's name, for messages. */
  readonly name: string;
  readonly addresses: readonly UpstreamAddress[];
  /** `:authority` for every address; default: the host:port of the first address. */
  readonly authority?: string;
  readonly pool?: Omit<PoolOptions, "onConnect" | "onConnectFailure">;
  /** TLS settings of `https://` and `dns+https:///` addresses. */
  readonly connectOptions?: SecureClientSessionOptions;
  readonly ejection?: EjectionOptions;
  readonly dnsRefreshMs?: number;
  readonly resolve?: Resolver;
  readonly log?: UpstreamLog;
}

const QUIET: UpstreamLog = { info() {}, warn() {} };

/**
 * One named backend as calls, health checks and metrics use it (gRPC would say a channel), over
 * one or more addresses: static ones, and every address `dns:///` names resolve to, kept current.
 * Calls go round-robin to the addresses that are not ejected; when every one is, to all of them
 * alike (as Envoy's panic mode), since refusing every call would be worse than trying.
 */
export class Upstream {
  /** The name routes, logs, metrics and health reports know it by. */
  readonly name: string;
  /** The addresses as configured, for messages: `host:port` or `dns:///name:port`, comma-separated. */
  readonly addresses: string;
  /** `:authority` of the calls sent to it. */
  readonly authority: string;
  readonly #options: UpstreamInit;
  readonly #log: UpstreamLog;
  /** The addresses each entry of `addresses` stands for now, by entry. */
  readonly #resolved: (readonly UpstreamTarget[])[];
  #endpoints: Endpoint[] = [];
  readonly #byUrl = new Map<string, Endpoint>();
  readonly #byStream = new WeakMap<ClientHttp2Stream, Endpoint>();
  readonly #watches: HostWatch[] = [];
  #next = 0;
  #closed = false;

  constructor(options: UpstreamInit) {
    const [first] = options.addresses;
    if (!first) throw new TypeError(`upstream ${options.name} has no addresses`);
    this.name = options.name;
    this.#options = options;
    this.#log = options.log ?? QUIET;
    this.addresses = options.addresses.map(describeAddress).join(",");
    this.authority =
      options.authority ?? (first.kind === "static" ? first.url.host : hostPort(first.host, first.port));
    const { connectOptions } = options;
    this.#resolved = options.addresses.map((a) =>
      a.kind === "static"
        ? [{ url: a.url, ...(a.url.protocol === "https:" && connectOptions && { connectOptions }) }]
        : [],
    );
    this.#update();
  }

  /** Starts resolving `dns:///` addresses; resolves once each has been resolved once, or failed to. */
  start(): Promise<void> {
    for (const [i, address] of this.#options.addresses.entries()) {
      if (address.kind !== "dns") continue;
      const name = describeAddress(address);
      const scheme = address.tls ? "https" : "http";
      // The certificate is checked against the name, not the address it resolved to (unless overridden).
      const connectOptions = address.tls
        ? { servername: address.host, ...this.#options.connectOptions }
        : undefined;
      const watch = new HostWatch(address.host, {
        resolve: this.#options.resolve ?? systemResolver,
        intervalMs: this.#options.dnsRefreshMs ?? DEFAULT_DNS_REFRESH_MS,
        onAddresses: (ips) => {
          this.#resolved[i] = ips.map((ip) => ({
            url: new URL(`${scheme}://${hostPort(ip, address.port)}`),
            ...(connectOptions && { connectOptions }),
          }));
          this.#update();
        },
        onError: (error) => {
          this.#log.warn(
            `upstream ${this.name}: cannot resolve ${name}, keeping its last addresses: ${error.message}`,
          );
        },
      });
      this.#watches.push(watch);
    }
    return Promise.all(this.#watches.map((w) => w.first)).then(() => undefined);
  }

  /** The addresses calls may go to now, for tests and reports. */
  get endpoints(): readonly { readonly address: string; readonly healthy: boolean }[] {
    return this.#endpoints.map((e) => ({ address: e.pool.address, healthy: e.healthy }));
  }

  /** True when a session is connected and takes new streams. */
  get connected(): boolean {
    return this.#endpoints.some((e) => e.pool.connected);
  }

  get sessionStates(): SessionStates {
    const states = { connecting: 0, connected: 0, retiring: 0 };
    for (const { pool } of this.#endpoints) {
      const s = pool.sessionStates;
      states.connecting += s.connecting;
      states.connected += s.connected;
      states.retiring += s.retiring;
    }
    return states;
  }

  get activeStreams(): number {
    let n = 0;
    for (const { pool } of this.#endpoints) n += pool.activeStreams;
    return n;
  }

  /** Resolves true once a session of any address takes new streams (opening them if needed), false when none can. */
  connect(): Promise<boolean> {
    const endpoints = this.#endpoints;
    if (endpoints.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let left = endpoints.length;
      for (const { pool } of endpoints) {
        void pool.connect().then((ok) => {
          if (ok) resolve(true);
          else if (--left === 0) resolve(false);
        });
      }
    });
  }

  /**
   * Opens a stream. `previous` is this call's earlier stream that failed before the backend saw it:
   * the new one goes to another address when there is one. Throws a GrpcError when there is nowhere
   * to send it.
   */
  request(headers: OutgoingHttpHeaders, previous?: ClientHttp2Stream): ClientHttp2Stream {
    // A retry takes no turn, so that an address refusing calls gets no more than its share of them.
    const avoid = previous && this.#byStream.get(previous);
    const rotate = avoid === undefined;
    const endpoint = this.#pick(avoid, true, rotate) ?? this.#pick(avoid, false, rotate) ?? avoid;
    if (!endpoint) {
      throw new GrpcError(Code.UNAVAILABLE, `upstream ${this.name} (${this.addresses}) has no addresses`);
    }
    const stream = endpoint.pool.request(headers);
    this.#byStream.set(stream, endpoint);
    return stream;
  }

  /** The address a stream it opened went to. */
  addressOf(stream: ClientHttp2Stream): URL | undefined {
    return this.#byStream.get(stream)?.pool.url;
  }

  /** Cancels a stream it opened that is still open (RST_STREAM CANCEL). */
  cancel(stream: ClientHttp2Stream): void {
    this.#byStream.get(stream)?.pool.cancel(stream);
  }

  /** Stops new streams and closes every session once its streams end. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const watch of this.#watches) watch.stop();
    await Promise.all(this.#endpoints.map((e) => e.close()));
  }

  /**
   * The next endpoint round-robin, other than `avoid`, and only healthy ones when `healthyOnly`;
   * `rotate` moves the turn past it.
   */
  #pick(avoid: Endpoint | undefined, healthyOnly: boolean, rotate: boolean): Endpoint | undefined {
    const endpoints = this.#endpoints;
    const n = endpoints.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#next + i) % n;
      const endpoint = endpoints[index] as Endpoint;
      if (endpoint === avoid || (healthyOnly && !endpoint.healthy)) continue;
      if (rotate) this.#next = (index + 1) % n;
      return endpoint;
    }
    return undefined;
  }

  /** Brings the endpoints in line with the addresses: new ones added, gone ones closed once their calls end. */
  #update(): void {
    if (this.#closed) return;
    const wanted = new Set(this.#resolved.flat().map((target) => target.url.href));
    for (const [href, endpoint] of this.#byUrl) {
      if (wanted.has(href)) continue;
      this.#byUrl.delete(href);
      void endpoint.close();
    }
    for (const target of this.#resolved.flat()) {
      if (this.#byUrl.has(target.url.href)) continue;
      const { pool = {}, ejection = {} } = this.#options;
      this.#byUrl.set(target.url.href, new Endpoint(target, { pool, ejection, log: this.#log }));
    }
    const before = this.#endpoints.map((e) => e.pool.address).join(",");
    this.#endpoints = [...this.#byUrl.values()];
    const after = this.#endpoints.map((e) => e.pool.address).join(",");
    if (before !== after && this.#watches.length > 0) {
      this.#log.info(`upstream ${this.name} now calls ${after || "no address"}`);
    }
  }
}
