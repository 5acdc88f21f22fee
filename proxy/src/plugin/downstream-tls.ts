import { unwatchFile, watchFile } from "node:fs";
import tls, { type SecureContextOptions } from "node:tls";
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
  /**
   * Also accept TLS 1.0 and 1.1, and TLS 1.2 suites without forward secrecy or AEAD (Node's whole list, at
   * OpenSSL security level 0), for old clients; default false.
   */
  readonly legacyClients?: boolean;
}

/**
 * TLS 1.2 suites with forward secrecy (ECDHE) and an AEAD cipher, as Mozilla's "intermediate" profile and
 * HTTP/2 (RFC 9113 §9.2.2) want them; the TLS 1.3 suites all are. Clients older than about 2014 need
 * `legacyClients`.
 */
const MODERN_CIPHERS = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");
/** OpenSSL 3 refuses TLS 1.0 and 1.1 (their SHA-1 signatures) above security level 0. */
const LEGACY_CIPHERS = `${tls.DEFAULT_CIPHERS}:@SECLEVEL=0`;

const DEFAULT_RELOAD_INTERVAL_MS = 5_000;

/** Where a new certificate goes: a TLS server (Node's https and http2 secure servers both are). */
interface SecureServer {
  setSecureContext(options: SecureContextOptions): void;
}

/** The certificate and key, read now, with the versions and suites allowed; an unreadable file is an error naming it. */
export function secureContextOptions(options: DownstreamTlsOptions): SecureContextOptions {
  const legacy = options.legacyClients === true;
  return {
    cert: readFileFor(options.certFile, "TLS certificate"),
    key: readFileFor(options.keyFile, "TLS key"),
    minVersion: legacy ? "TLSv1" : "TLSv1.2",
    ciphers: legacy ? LEGACY_CIPHERS : MODERN_CIPHERS,
  };
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
      // A new context replaces the whole old one: versions and suites included.
      server.setSecureContext(secureContextOptions(tls));
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
