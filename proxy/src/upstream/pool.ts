import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from "node:http2";
import net from "node:net";
import { keepAlive, limitConnectTime, watchIdle } from "./session-timers.js";

/** What the pool needs to know to reach one backend address. */
export interface UpstreamTarget {
  /** `http://host:port` (h2c) or `https://host:port` (TLS). */
  readonly url: URL;
  readonly connectOptions?: http2.SecureClientSessionOptions;
}

export interface PoolOptions {
  /**
   * Node's 64 KiB default flow-control windows cap a server stream far below what
   * a backend can send over one session; a generous window lets DATA flow while
   * backpressure still comes from pausing the stream when the browser is slow.
   * It is also what the proxy may hold for each browser that reads slowly: the
   * default of 1 MiB streams as fast as 8 MiB did on a local network, and holds
   * about 3 MiB per slow reader where 8 MiB held about 8 (100 of them: 1 GiB).
   */
  readonly windowBytes?: number;
  /**
   * Node and other HTTP/2 servers tear a session down after about a thousand
   * client-cancelled streams (rapid-reset protection), failing every call on it.
   * A session that has cancelled this many streams takes no new ones and closes
   * when its last stream ends, so the limit is never reached.
   */
  readonly maxCancelsPerSession?: number;
  /** A session still connecting after this long is given up (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** PING each session this often, once connected; default: never (see keepAlive). */
  readonly keepaliveIntervalMs?: number;
  /** A PING unanswered this long destroys its session (default 20 s). */
  readonly keepaliveTimeoutMs?: number;
  /** A session without streams for this long is closed (default 5 min). */
  readonly sessionIdleTimeoutMs?: number;
  /** A session connected: the address is reachable. */
  readonly onConnect?: () => void;
  /** A session failed before it connected: the address is not reachable now. */
  readonly onConnectFailure?: (error: Error) => void;
}

export interface SessionStates {
  readonly connecting: number;
  readonly connected: number;
  /** Retired or closing: they finish their streams but take no new ones. */
  readonly retiring: number;
}

const DEFAULT_WINDOW_BYTES = 1024 * 1024;
const DEFAULT_MAX_CANCELS_PER_SESSION = 500;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 5 * 60_000;

interface PooledSession {
  readonly session: ClientHttp2Session;
  active: number;
  cancels: number;
  retired: boolean;
  connected: boolean;
  /** `performance.now()` when its last stream ended. */
  idleSince: number;
}

/**
 * HTTP/2 sessions to one address of an upstream, shared by every call: one session
 * while it has stream capacity, more when the peer's SETTINGS_MAX_CONCURRENT_STREAMS
 * is reached, a fresh one after GOAWAY, an error or retirement.
 */
export class UpstreamPool {
  readonly #target: UpstreamTarget;
  readonly #options: PoolOptions;
  readonly #windowBytes: number;
  readonly #maxCancels: number;
  readonly #sessions: PooledSession[] = [];
  readonly #byStream = new WeakMap<ClientHttp2Stream, PooledSession>();
  /** Every stream's 'close' listener, one for the pool: an open stream holds no closure of its own. */
  readonly #streamClosed: (this: ClientHttp2Stream) => void;
  #closed = false;

  constructor(target: UpstreamTarget, options: PoolOptions = {}) {
    this.#target = target;
    this.#options = options;
    this.#windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.#maxCancels = options.maxCancelsPerSession ?? DEFAULT_MAX_CANCELS_PER_SESSION;
    const pool = this;
    this.#streamClosed = function (this: ClientHttp2Stream) {
      pool.#release(pool.#byStream.get(this) as PooledSession);
    };
  }

  get address(): string {
    return this.#target.url.host;
  }

  get url(): URL {
    return this.#target.url;
  }

  get authority(): string {
    return this.#target.url.host;
  }

  /** Sessions currently open, for health and metrics. */
  get sessionCount(): number {
    return this.#sessions.length;
  }

  /** Streams currently open across all sessions. */
  get activeStreams(): number {
    let n = 0;
    for (const s of this.#sessions) n += s.active;
    return n;
  }

  /** True when a session is connected and takes new streams. */
  get connected(): boolean {
    return this.#sessions.some((s) => !s.retired && !s.session.connecting && !s.session.destroyed);
  }

  /** Sessions by state, for metrics. */
  get sessionStates(): SessionStates {
    const states = { connecting: 0, connected: 0, retiring: 0 };
    for (const { session, retired } of this.#sessions) {
      if (retired || session.closed || session.destroyed) states.retiring++;
      else if (session.connecting) states.connecting++;
      else states.connected++;
    }
    return states;
  }

  /**
   * Resolves true once a session takes new streams, opening one when none does,
   * and false when that fails. Readiness probes need it: the pool itself only
   * connects for a call, and no call comes to a proxy that is not ready.
   */
  connect(): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    const { session } = this.#sessionWithCapacity();
    if (!session.connecting) return Promise.resolve(!session.closed && !session.destroyed);
    return new Promise((resolve) => {
      const settle = (connected: boolean) => () => {
        session.off("connect", onConnect).off("close", onClose);
        resolve(connected);
      };
      const onConnect = settle(true);
      const onClose = settle(false);
      session.once("connect", onConnect).once("close", onClose);
    });
  }

  /** Opens a stream on a session with capacity. Throws only if the pool is closed. */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    if (this.#closed) throw new Error("upstream pool is closed");
    const pooled = this.#sessionWithCapacity();
    // No options: a POST's stream stays open for its body by default. Given `{ endStream: false }`, Node 20's
    // request() spent about 15 µs a call in its priority-option checks (a CPU profile of small calls); given none, under 1.
    const stream = pooled.session.request(headers);
    pooled.active++;
    this.#byStream.set(stream, pooled);
    // `on`: 'close' comes once, and a `once` wrapper would cost every open stream more memory.
    stream.on("close", this.#streamClosed);
    return stream;
  }

  /**
   * Cancels a stream that is still open with RST_STREAM(CANCEL), so the backend
   * stops work at once (`session.close()` would let it run on). A stream that has
   * already closed is left alone: an RST_STREAM after its end costs the peer too.
   */
  cancel(stream: ClientHttp2Stream): void {
    if (stream.closed || stream.destroyed) return;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const pooled = this.#byStream.get(stream);
    if (pooled && ++pooled.cancels >= this.#maxCancels) this.#retire(pooled);
  }

  /** Stops new streams; resolves once every session has ended, each as soon as its last stream has. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.all(
      this.#sessions.map((pooled) => {
        // A session destroyed by a TLS alert after its handshake (a client certificate the backend
        // refused) may never emit 'close'.
        if (pooled.session.destroyed) return undefined;
        const closed = new Promise<void>((resolve) => pooled.session.once("close", () => resolve()));
        this.#retire(pooled);
        return closed;
      }),
    ).then(() => undefined);
  }

  /** Ends every session now, failing their streams. */
  destroy(): void {
    this.#closed = true;
    for (const { session } of this.#sessions) session.destroy();
  }

  #sessionWithCapacity(): PooledSession {
    for (const pooled of this.#sessions) {
      const { session } = pooled;
      if (pooled.retired || session.closed || session.destroyed) continue;
      const limit = session.remoteSettings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
      if (pooled.active < limit) return pooled;
    }
    return this.#connect();
  }

  #connect(): PooledSession {
    const { url, connectOptions } = this.#target;
    const options = this.#options;
    const session = http2.connect(url, {
      ...connectOptions,
      settings: { enablePush: false, initialWindowSize: this.#windowBytes },
      // Nagle would hold back small frames (a unary request, a cancel) for an ACK.
      ...(url.protocol === "http:" && { createConnection: connectWithoutDelay }),
    });
    const pooled: PooledSession = {
      session,
      active: 0,
      cancels: 0,
      retired: false,
      connected: false,
      idleSince: performance.now(),
    };
    this.#sessions.push(pooled);
    session.once("connect", () => {
      pooled.connected = true;
      session.setLocalWindowSize(this.#windowBytes);
      options.onConnect?.();
    });
    limitConnectTime(session, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    if (options.keepaliveIntervalMs !== undefined) {
      keepAlive(
        session,
        options.keepaliveIntervalMs,
        options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      );
    }
    watchIdle(
      session,
      options.sessionIdleTimeoutMs ?? DEFAULT_SESSION_IDLE_TIMEOUT_MS,
      () => (pooled.active === 0 ? pooled.idleSince : undefined),
      () => this.#retire(pooled),
    );
    // Errors reach the streams on this session as their own events; the session
    // itself only has to leave the pool.
    session.on("error", (error) => {
      if (!pooled.connected) options.onConnectFailure?.(error);
      this.#retire(pooled);
    });
    session.once("goaway", () => this.#retire(pooled));
    session.once("close", () => this.#forget(pooled));
    return pooled;
  }

  #release(pooled: PooledSession): void {
    if (--pooled.active === 0) pooled.idleSince = performance.now();
    if (pooled.retired && pooled.active === 0) endSession(pooled.session);
  }

  #retire(pooled: PooledSession): void {
    if (pooled.retired) return;
    pooled.retired = true;
    if (pooled.active === 0) endSession(pooled.session);
  }

  #forget(pooled: PooledSession): void {
    const i = this.#sessions.indexOf(pooled);
    if (i >= 0) this.#sessions.splice(i, 1);
  }
}

/**
 * Ends a session that has no streams left: destroy(), which still says GOAWAY first, and not close(),
 * after which Node waits for the peer to close the connection too: for ever when the peer hangs (a
 * stopped process), which kept retired sessions open and held up the proxy's shutdown.
 */
function endSession(session: ClientHttp2Session): void {
  if (!session.destroyed) session.destroy();
}

function connectWithoutDelay(url: URL): net.Socket {
  return net.connect({
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port || 80),
    noDelay: true,
  });
}
