import { createPublicKey, type KeyObject } from "node:crypto";
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from "jose";
import type { CallInterceptor } from "../plugin/interceptors.js";
import { readFileFor } from "../settings/read-file.js";
import { bearerAuth } from "./bearer.js";
import { loadJose } from "./jose.js";

/** The bearer check as the CLI and config file give it: files, as a Kubernetes Secret mounts them. */
export interface BearerAuthFiles {
  /** Accepted tokens, one a line; blank lines and lines starting with # are skipped. */
  readonly tokensFile?: string;
  /** The JWT public key: PEM (public key or certificate), a JWK, or a JWKS (`{"keys": [...]}`, picked by kid). */
  readonly jwtKeyFile?: string;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  /** Accept a JWT without exp. */
  readonly jwtAllowNoExpiry?: boolean;
  /** Leeway for exp, nbf and iat; default 30 s. */
  readonly jwtClockSkewMs?: number;
}

/** A bearer file that cannot be used, and which of the files it is. */
export class BearerFileError extends TypeError {
  constructor(
    readonly file: "tokensFile" | "jwtKeyFile",
    message: string,
  ) {
    super(message);
  }
}

/** The interceptor the files describe, or undefined when no file is given. Read once, at start-up. */
export function bearerAuthFromFiles(files: BearerAuthFiles): CallInterceptor | undefined {
  const { tokensFile, jwtKeyFile, jwtIssuer, jwtAudience, jwtAllowNoExpiry, jwtClockSkewMs } = files;
  if (tokensFile === undefined && jwtKeyFile === undefined) {
    if (jwtIssuer !== undefined || jwtAudience !== undefined) {
      throw new TypeError("a JWT issuer or audience needs the JWT key file too");
    }
    return undefined;
  }
  return bearerAuth({
    ...(tokensFile !== undefined && { tokens: readTokens(tokensFile) }),
    ...(jwtKeyFile !== undefined && {
      jwt: {
        key: readVerificationKey(jwtKeyFile),
        ...(jwtIssuer !== undefined && { issuer: jwtIssuer }),
        ...(jwtAudience !== undefined && { audience: jwtAudience }),
        ...(jwtAllowNoExpiry === true && { allowNoExpiry: true }),
        ...(jwtClockSkewMs !== undefined && { clockToleranceSeconds: jwtClockSkewMs / 1000 }),
      },
    }),
  });
}

function readTokens(file: string): string[] {
  const tokens = readFor("tokensFile", file, "bearer tokens")
    .toString("utf8")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (tokens.length === 0)
    throw new BearerFileError("tokensFile", `the bearer tokens file ${file} holds no token`);
  return tokens;
}

function readVerificationKey(file: string): KeyObject | JWTVerifyGetKey {
  const text = readFor("jwtKeyFile", file, "JWT key").toString("utf8");
  try {
    if (!text.trimStart().startsWith("{")) return createPublicKey(text);
    const json = JSON.parse(text) as JWK | JSONWebKeySet;
    if ("keys" in json) return loadJose().createLocalJWKSet(json);
    return createPublicKey({ key: json as JsonWebKeyInput["key"], format: "jwk" });
  } catch (error) {
    throw new BearerFileError(
      "jwtKeyFile",
      `the JWT key file ${file} is not a PEM public key, JWK or JWKS: ${(error as Error).message}`,
    );
  }
}

function readFor(option: BearerFileError["file"], file: string, what: string): Buffer {
  try {
    return readFileFor(file, what);
  } catch (error) {
    throw new BearerFileError(option, (error as Error).message);
  }
}

type JsonWebKeyInput = Extract<Parameters<typeof createPublicKey>[0], { format: "jwk" }>;
