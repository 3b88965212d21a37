import { readFileSync } from "node:fs";
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import type { RoleName } from "./roles.js";

/**
 * JWT bearer tokens (`authorization: Bearer <jwt>`), verified with `TDB_JWT_SECRET`
 * (HS256, at least 32 characters) and/or the public keys of `TDB_JWT_JWKS_FILE` (a JWKS
 * JSON file; RS256/384/512, PS256/384/512, ES256/384/512, EdDSA). Required claims:
 *
 * - `exp`: tokens without an expiry are refused;
 * - `tdb_tenant`: the tenant's id or name;
 * - `tdb_role`: `read`, `readwrite` or `admin`.
 *
 * Optional: `sub` (logged as the key id `jwt:<sub>`), `tdb_methods` (an allow-list of
 * fully-qualified methods, like a key's), `nbf`. A JWT is checked on every request and
 * never stored; it is not rate-limited.
 */
export interface JwtClaims {
  tenant: string;
  role: RoleName;
  subject: string;
  allowedMethods: string[];
}

/** Verifies a token; undefined for anything invalid (bad signature, expired, missing claims). */
export type JwtVerifier = (token: string) => Promise<JwtClaims | undefined>;

const asymmetric = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** A verifier for the configured secret / JWKS file, or undefined when JWTs are not enabled. */
export function createJwtVerifier(settings: {
  secret: string | undefined;
  jwksFile: string | undefined;
}): JwtVerifier | undefined {
  const secret = settings.secret === undefined ? undefined : new TextEncoder().encode(settings.secret);
  const jwks = settings.jwksFile === undefined ? undefined : loadJwks(settings.jwksFile);
  if (!secret && !jwks) return undefined;
  return async (token) => {
    try {
      const { alg } = decodeProtectedHeader(token);
      const options = { requiredClaims: ["exp", "tdb_tenant", "tdb_role"] };
      const { payload } =
        alg === "HS256" && secret
          ? await jwtVerify(token, secret, { ...options, algorithms: ["HS256"] })
          : jwks
            ? await jwtVerify(token, jwks, { ...options, algorithms: asymmetric })
            : { payload: undefined };
      if (!payload) return undefined;
      const { tdb_tenant: tenant, tdb_role: role, tdb_methods: methods, sub } = payload;
      if (typeof tenant !== "string" || tenant === "") return undefined;
      if (role !== "read" && role !== "readwrite" && role !== "admin") return undefined;
      if (methods !== undefined && !(Array.isArray(methods) && methods.every((m) => typeof m === "string"))) {
        return undefined;
      }
      return { tenant, role, subject: sub ?? "anonymous", allowedMethods: (methods as string[]) ?? [] };
    } catch {
      return undefined;
    }
  };
}

/** True when the credential has the shape of a compact JWS (three base64url parts). */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

function loadJwks(file: string): ReturnType<typeof createLocalJWKSet> {
  let set: JSONWebKeySet;
  try {
    set = JSON.parse(readFileSync(file, "utf8")) as JSONWebKeySet;
  } catch (err) {
    throw new Error(`invalid TDB_JWT_JWKS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(set.keys)) throw new Error(`invalid TDB_JWT_JWKS_FILE: ${file} has no "keys" array`);
  return createLocalJWKSet(set);
}
