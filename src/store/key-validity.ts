import pg from "pg";
import { readQuery } from "./db-errors.js";

/**
 * True while the key `keyId` of `tenantId` may still be used: not revoked, not expired, its user (if
 * any) active — the same rule as authentication (key-lookup.ts). Long streams ask again:
 * a read every TDB_KEY_RECHECK_INTERVAL, an upload just before it commits.
 *
 * With `lockUntilCommit` (inside the upload's own tenant transaction) the key row is
 * share-locked, so a revocation that commits after this check waits for the upload's
 * commit: either the upload commits before the key dies, or it sees the key dead.
 */
export async function keyStillValid(
  q: pg.Pool | pg.PoolClient,
  tenantId: string,
  keyId: string,
  lockUntilCommit = false,
): Promise<boolean> {
  const sql = `SELECT 1 FROM api_keys k
       LEFT JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
      WHERE k.tenant_id = $1 AND k.id = $2
        AND k.revoked_at IS NULL
        AND (k.expires_at IS NULL OR k.expires_at > now())
        AND (k.user_id IS NULL OR u.active)
      ${lockUntilCommit ? "FOR SHARE OF k" : ""}`;
  const values = [tenantId, keyId];
  const { rows } = q instanceof pg.Pool ? await readQuery(q, sql, values) : await q.query(sql, values);
  return rows.length > 0;
}
