import { createHash, timingSafeEqual } from "node:crypto";
import type { CryptoKey, errors, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, KeyObject } from "jose";
import type { CallInterceptor } from "../plugin/interceptors.js";
import { Code, GrpcError } from "../protocol/status.js";
import { loadJose } from "./jose.js";

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
    /** Leeway for `exp`, `nbf` and `iat`, in seconds; default 30. */
    readonly clockToleranceSeconds?: number;
    /** Accept tokens without an `exp` claim, which are valid for ever once leaked; default false. */
    readonly allowNoExpiry?: boolean;
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
 * What a refused token tells the browser: one fixed text per cause, so a caller learns nothing of the
 * verifier's internals (jose's own reason goes to the log, as the error's cause).
 */
export const TOKEN_REFUSALS = {
  missing: "this call needs an authorization: Bearer <token> header",
  invalid: "the bearer token is not valid",
  expired: "the bearer token is not valid: it has expired",
  notYetValid: "the bearer token is not valid: it is not valid yet",
  noExpiry: "the bearer token is not valid: it has no expiry (exp)",
  claims: "the bearer token is not valid: its claims are not accepted",
} as const;

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
  const jose = jwt && loadJose();
  const verifyOptions: JWTVerifyOptions | undefined = jwt && {
    algorithms: ASYMMETRIC_ALGORITHMS,
    clockTolerance: jwt.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    ...(jwt.issuer !== undefined && { issuer: asArray(jwt.issuer) }),
    ...(jwt.audience !== undefined && { audience: asArray(jwt.audience) }),
    ...(jwt.allowNoExpiry !== true && { requiredClaims: ["exp"] }),
  };

  return async ({ metadata }) => {
    const header = metadata.get("authorization");
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    if (token === undefined) return new GrpcError(Code.UNAUTHENTICATED, TOKEN_REFUSALS.missing);
    if (known(token)) return undefined;
    if (!jwt || !jose || !verifyOptions) return new GrpcError(Code.UNAUTHENTICATED, TOKEN_REFUSALS.invalid);
    try {
      const { payload } = await jose.jwtVerify(token, jwt.key, verifyOptions);
      return issuedInTheFuture(payload, verifyOptions.clockTolerance as number);
    } catch (error) {
      return new GrpcError(Code.UNAUTHENTICATED, refusalText(error, jose.errors), { cause: error });
    }
  };
}

/** jose checks `iat` only against a maximum age; a token dated ahead of the clock was not issued yet. */
function issuedInTheFuture({ iat }: JWTPayload, toleranceSeconds: number): GrpcError | undefined {
  if (iat === undefined || iat <= Date.now() / 1000 + toleranceSeconds) return undefined;
  return new GrpcError(Code.UNAUTHENTICATED, TOKEN_REFUSALS.notYetValid, {
    cause: new Error(`"iat" claim ${iat} is in the future`),
  });
}

function refusalText(error: unknown, { JWTExpired, JWTClaimValidationFailed }: typeof errors): string {
  if (error instanceof JWTExpired) return TOKEN_REFUSALS.expired;
  if (error instanceof JWTClaimValidationFailed) {
    if (error.claim === "nbf") return TOKEN_REFUSALS.notYetValid;
    if (error.claim === "exp" && error.reason === "missing") return TOKEN_REFUSALS.noExpiry;
    return TOKEN_REFUSALS.claims;
  }
  return TOKEN_REFUSALS.invalid;
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function asArray(value: string | readonly string[]): string[] {
  return typeof value === "string" ? [value] : [...value];
}
