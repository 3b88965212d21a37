import type pg from "pg";
import type { RoleName } from "../auth/roles.js";
import { readQuery } from "./db-errors.js";

/** What authentication needs to know about a stored key. */
export interface StoredKey {
  id: string;
  tenantId: string;
  role: RoleName;
  allowedMethods: string[];
  rateLimit: number | null;
  /** Epoch microseconds as a decimal string; null = never. */
  expiresAtUs: string | null;
  userId: string | null;
  userEmail: string | null;
}

/**
 * Finds a usable key by the SHA-256 of its raw form: not revoked, not expired, and its user
 * (if any) active. Runs on the login role (this happens before the tenant is known), reads
 * the current row every time, so revocation, role changes and user deactivation take effect
 * on the very next request on every server process.
 */
export async function findActiveKey(pool: pg.Pool, keyHash: Buffer): Promise<StoredKey | undefined> {
  const { rows } = await readQuery<StoredKey>(
    pool,
    `SELECT k.id, k.tenant_id AS "tenantId", k.role, k.allowed_methods AS "allowedMethods",
            k.rate_limit AS "rateLimit", tdb_ts_to_us(k.expires_at)::text AS "expiresAtUs",
            k.user_id AS "userId", u.email AS "userEmail"
       FROM api_keys k
       LEFT JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
      WHERE k.key_hash = $1
        AND k.revoked_at IS NULL
        AND (k.expires_at IS NULL OR k.expires_at > now())
        AND (k.user_id IS NULL OR u.active)`,
    [keyHash],
  );
  return rows[0];
}
