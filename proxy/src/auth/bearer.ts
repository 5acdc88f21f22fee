import { createHash, timingSafeEqual } from "node:crypto";
import { type CryptoKey, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify, type KeyObject } from "jose";
import type { CallInterceptor } from "../plugin/interceptors.js";
import { Code, GrpcError } from "../protocol/status.js";

/** How a bearer token is accepted: it is one of `tokens`, or a JWT that `jwt` verifies. */
export interface BearerAuthOptions {
  /** Opaque tokens that are let in as they are. */
  readonly tokens?: readonly string[];
  readonly jwt?: {
    /** The public key (or a JWKS, which picks the key by `kid`) that signs valid tokens. */
    readonly key: KeyObject | CryptoKey | JWTVerifyGetKey;
    /** Required `iss` claim. */
    readonly issuer?: string | readonly string[];
    /** Required `aud` claim. */
    readonly audience?: string | readonly string[];
    /** Leeway for `exp` and `nbf`, in seconds; default 30. */
    readonly clockToleranceSeconds?: number;
  };
}

/** Public-key signatures only: a shared-secret (HS*) or unsigned token is never accepted. */
const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

/**
 * An interceptor that lets a call in only with `authorization: Bearer <token>`
 * where the token is on the list or is a JWT signed by the key, unexpired, with
 * the required issuer and audience. Anything else is UNAUTHENTICATED. The header
 * still goes to the backend, which may read the token's claims itself.
 */
export function bearerAuth(options: BearerAuthOptions): CallInterceptor {
  const { tokens = [], jwt } = options;
  if (tokens.length === 0 && !jwt) throw new TypeError("bearerAuth needs tokens, a JWT key, or both");
  // Compared as digests of equal length, in constant time, so no timing tells how much of a token matched.
  const digests = tokens.map(digest);
  const known = (token: string) => {
    const candidate = digest(token);
    return digests.some((d) => timingSafeEqual(d, candidate));
  };
  const verifyOptions: JWTVerifyOptions | undefined = jwt && {
    algorithms: ASYMMETRIC_ALGORITHMS,
    clockTolerance: jwt.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    ...(jwt.issuer !== undefined && { issuer: asArray(jwt.issuer) }),
    ...(jwt.audience !== undefined && { audience: asArray(jwt.audience) }),
  };

  return async ({ metadata }) => {
    const header = metadata.get("authorization");
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (token === undefined) {
      return new GrpcError(Code.UNAUTHENTICATED, "this call needs an authorization: Bearer <token> header");
    }
    if (known(token)) return undefined;
    if (!jwt || !verifyOptions) return new GrpcError(Code.UNAUTHENTICATED, "the bearer token is not valid");
    try {
      await jwtVerify(token, jwt.key, verifyOptions);
      return undefined;
    } catch (error) {
      return new GrpcError(
        Code.UNAUTHENTICATED,
        `the bearer token is not valid: ${(error as Error).message}`,
      );
    }
  };
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function asArray(value: string | readonly string[]): string[] {
  return typeof value === "string" ? [value] : [...value];
}
