import { unwatchFile, watchFile } from "node:fs";
import type { SecureContextOptions } from "node:tls";
import type { FastifyBaseLogger } from "fastify";
import { readFileFor } from "../settings/read-file.js";

/** TLS for browsers: with it the public port speaks HTTP/2 and HTTP/1.1, chosen by ALPN. */
export interface DownstreamTlsOptions {
  /** PEM certificate chain, leaf first. */
  readonly certFile: string;
  /** PEM private key of the certificate. */
  readonly keyFile: string;
  /** How often the files are checked for a change; default 5 s. */
  readonly reloadIntervalMs?: number;
}

const DEFAULT_RELOAD_INTERVAL_MS = 5_000;

/** Where a new certificate goes: a TLS server (Node's https and http2 secure servers both are). */
interface SecureServer {
  setSecureContext(options: SecureContextOptions): void;
}

/** The certificate and key, read now; an unreadable file is an error naming it. */
export function readKeyPair(tls: DownstreamTlsOptions): { cert: Buffer; key: Buffer } {
  return { cert: readFileFor(tls.certFile, "TLS certificate"), key: readFileFor(tls.keyFile, "TLS key") };
}

/**
 * Reloads the certificate and key into `server` whenever either file changes, as
 * cert-manager or a Kubernetes Secret renews them; connections already open keep
 * theirs. The files are polled by stat, which sees a Secret's symlink swap that
 * an inotify watch on the old file would miss. A pair that does not load (a key
 * renewed before its certificate) keeps the old one in service and is tried again
 * at the next change. Returns what stops watching.
 */
export function reloadOnChange(
  server: SecureServer,
  tls: DownstreamTlsOptions,
  log: FastifyBaseLogger,
): () => void {
  const interval = tls.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
  const reload = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
    if (current.mtimeMs === previous.mtimeMs) return;
    try {
      server.setSecureContext(readKeyPair(tls));
      log.info({ certFile: tls.certFile }, "reloaded the TLS certificate");
    } catch (error) {
      log.error({ err: error }, "the changed TLS certificate or key does not load; serving the previous one");
    }
  };
  const files = [tls.certFile, tls.keyFile];
  for (const file of files) watchFile(file, { interval, persistent: false }, reload);
  return () => {
    for (const file of files) unwatchFile(file, reload);
  };
}
