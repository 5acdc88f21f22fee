// Timers that watch one upstream HTTP/2 session. Each clears itself when the session closes, and none
// keeps the process alive.
import type { ClientHttp2Session } from "node:http2";

/**
 * Destroys a session still connecting after `ms`: a SYN to an address that is gone may wait minutes
 * for the kernel to give up, and every call queued on the session with it. Connected means the peer's
 * SETTINGS came: 'connect' is only TCP (and TLS), and a peer that accepts the socket but never speaks
 * HTTP/2 would hold every call without a deadline for ever.
 */
export function limitConnectTime(session: ClientHttp2Session, ms: number): void {
  const timer = setTimeout(() => {
    session.destroy(new Error(`no HTTP/2 connection within ${ms} ms`));
  }, ms).unref();
  const clear = () => clearTimeout(timer);
  session.once("remoteSettings", clear).once("close", clear);
}

/**
 * Sends a PING every `intervalMs` once connected; a PING without an answer within `timeoutMs` means
 * the peer or the path to it is dead, and destroys the session, so its calls fail fast with
 * UNAVAILABLE instead of hanging until TCP gives up.
 */
export function keepAlive(session: ClientHttp2Session, intervalMs: number, timeoutMs: number): void {
  let deadline: NodeJS.Timeout | undefined;
  const ping = () => {
    if (deadline || session.closed || session.destroyed) return;
    deadline = setTimeout(() => {
      session.destroy(new Error(`no answer to a keepalive PING within ${timeoutMs} ms`));
    }, timeoutMs).unref();
    session.ping((error) => {
      if (error) return; // cancelled: the session is closing anyway
      clearTimeout(deadline);
      deadline = undefined;
    });
  };
  let interval: NodeJS.Timeout | undefined;
  session.once("connect", () => {
    interval = setInterval(ping, intervalMs).unref();
  });
  session.once("close", () => {
    clearInterval(interval);
    clearTimeout(deadline);
  });
}

/**
 * Calls `onIdle` once the session has had no streams for `idleMs`. `idleSince` tells since when it
 * has had none (undefined while it has some); the timer re-arms itself rather than being reset per
 * call, so a busy session costs nothing here.
 */
export function watchIdle(
  session: ClientHttp2Session,
  idleMs: number,
  idleSince: () => number | undefined,
  onIdle: () => void,
): void {
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const since = idleSince();
    const idleFor = since === undefined ? 0 : performance.now() - since;
    if (since !== undefined && idleFor >= idleMs) {
      timer = undefined;
      onIdle();
      return;
    }
    timer = setTimeout(check, idleMs - idleFor).unref();
  };
  timer = setTimeout(check, idleMs).unref();
  session.once("close", () => clearTimeout(timer));
}
