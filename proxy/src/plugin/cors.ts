import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/** Request headers every gRPC-Web client sends; metadata headers are added per preflight. */
const BASE_ALLOWED_HEADERS = ["content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"];
/** Metadata names a preflight may ask for (gRPC's charset); anything else is not echoed. */
const METADATA_NAME = /^[0-9a-z_.-]+$/;
const PREFLIGHT_MAX_AGE_SECONDS = "7200";

export type OriginVerdict =
  /** No Origin header, or the proxy's own origin: no CORS headers needed. */
  | { readonly allowed: true; readonly headers: OutgoingHttpHeaders }
  | { readonly allowed: false; readonly origin: string };

/**
 * The allowlist of browser origins. Default-deny: with no allowed origins only
 * same-origin pages (and non-browser clients, which send no Origin) get in.
 */
export class CorsPolicy {
  readonly #any: boolean;
  readonly #origins: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.#any = allowedOrigins.includes("*");
    this.#origins = new Set(allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, "")));
  }

  /** The verdict on a request's origin, with the CORS headers for an allowed cross-origin one. */
  check(headers: IncomingHttpHeaders, secure: boolean): OriginVerdict {
    const origin = headers.origin;
    if (origin === undefined) return NO_CORS;
    if (this.#any || this.#origins.has(origin.toLowerCase())) {
      return { allowed: true, headers: { "access-control-allow-origin": origin, vary: "Origin" } };
    }
    if (origin === `${secure ? "https" : "http"}://${headers.host}`) return NO_CORS;
    return { allowed: false, origin };
  }

  /** Headers answering a preflight from an allowed origin. */
  preflightHeaders(
    verdict: OriginVerdict & { allowed: true },
    headers: IncomingHttpHeaders,
  ): OutgoingHttpHeaders {
    const requested = headers["access-control-request-headers"];
    const allowed = [...BASE_ALLOWED_HEADERS];
    if (requested) {
      for (const name of requested.split(",")) {
        const trimmed = name.trim().toLowerCase();
        if (METADATA_NAME.test(trimmed) && !allowed.includes(trimmed)) allowed.push(trimmed);
      }
    }
    return {
      ...verdict.headers,
      "access-control-allow-methods": "POST, OPTIONS",
      "access-control-allow-headers": allowed.join(", "),
      "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
      vary: "Origin, Access-Control-Request-Headers",
    };
  }
}

const NO_CORS: OriginVerdict = { allowed: true, headers: {} };
