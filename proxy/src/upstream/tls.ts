import type { SecureClientSessionOptions } from "node:http2";
import { readFileFor } from "../settings/read-file.js";

/** How the proxy checks an `https://` or `dns+https:///` upstream, and proves itself to it (mTLS). */
export interface UpstreamTlsOptions {
  /** PEM file of the CA(s) that signed the upstream's certificate; default: Node's public CAs. */
  readonly caFile?: string;
  /** PEM client certificate for mTLS; needs keyFile. */
  readonly certFile?: string;
  /** PEM private key of certFile. */
  readonly keyFile?: string;
  /** The name the upstream's certificate must carry (SNI too), when it differs from the URL's host. */
  readonly serverName?: string;
  /** Accept any certificate. Only for tests: anyone on the path can then read and change every call. */
  readonly insecureSkipVerify?: boolean;
}

export const INSECURE_SKIP_VERIFY_WARNING =
  "UPSTREAM TLS CERTIFICATES ARE NOT VERIFIED (--upstream-insecure-skip-verify): anyone between the proxy and " +
  "the backend can read and change every call. Never run this in production; give the backend's CA with --upstream-ca.";

/**
 * The TLS options of the sessions to a TLS upstream, read once at start-up so a
 * missing file stops the proxy before it serves; undefined when there are none.
 */
export function upstreamConnectOptions(
  tls: UpstreamTlsOptions | undefined,
): SecureClientSessionOptions | undefined {
  if (!tls) return undefined;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new TypeError("an upstream client certificate needs both its certificate and its key file");
  }
  return {
    ...(tls.caFile !== undefined && { ca: readFileFor(tls.caFile, "upstream CA") }),
    ...(tls.certFile !== undefined && { cert: readFileFor(tls.certFile, "upstream client certificate") }),
    ...(tls.keyFile !== undefined && { key: readFileFor(tls.keyFile, "upstream client key") }),
    ...(tls.serverName !== undefined && { servername: tls.serverName }),
    ...(tls.insecureSkipVerify && { rejectUnauthorized: false }),
  };
}
