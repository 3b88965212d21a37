import type pg from "pg";
import type { Config } from "../config.js";
import { findTenant } from "../store/tenants.js";
import { createJwtVerifier, type JwtVerifier } from "./jwt.js";
import { parseStaticKeys, type StaticKey } from "./static-keys.js";

/**
 * The credentials the server accepts besides database keys, built once from the
 * configuration (a malformed TDB_STATIC_KEYS or JWKS file stops the start with a message
 * naming it), plus how static keys and JWTs find their tenant.
 */
export interface CredentialSources {
  staticKeys: readonly StaticKey[];
  jwt: JwtVerifier | undefined;
  /** Tenant id for a tenant id or name, or undefined when there is no such tenant. */
  tenantId(idOrName: string): Promise<string | undefined>;
}

/** Reads TDB_STATIC_KEYS and TDB_JWT_SECRET / TDB_JWT_JWKS_FILE. */
export function credentialSources(
  config: Pick<Config, "TDB_STATIC_KEYS" | "TDB_JWT_SECRET" | "TDB_JWT_JWKS_FILE">,
  pool: pg.Pool,
): CredentialSources {
  // Tenants are never renamed or deleted, so a found tenant may be remembered; a missing
  // one is asked again (it may be created later).
  const known = new Map<string, string>();
  return {
    staticKeys: parseStaticKeys(config.TDB_STATIC_KEYS),
    jwt: createJwtVerifier({ secret: config.TDB_JWT_SECRET, jwksFile: config.TDB_JWT_JWKS_FILE }),
    async tenantId(idOrName) {
      const hit = known.get(idOrName);
      if (hit) return hit;
      const tenant = await findTenant(pool, idOrName);
      if (tenant) known.set(idOrName, tenant.id);
      return tenant?.id;
    },
  };
}
