import type pg from "pg";

/** A connection inside a tenant-scoped transaction: RLS shows it one tenant only. */
export type TenantClient = pg.PoolClient;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs `fn` in a transaction that is confined to `tenantId` by row-level security: the
 * role is switched to `tdb_app` (which cannot bypass RLS, even when the pool logs in as a
 * superuser) and the tenant is set transaction-locally, so it cannot leak to the next user
 * of the pooled connection. Commits when `fn` resolves, rolls back when it throws. This is
 * the only way store code runs tenant SQL.
 */
export async function withTenant<T>(
  pool: pg.Pool,
  tenantId: string,
  fn: (client: TenantClient) => Promise<T>,
): Promise<T> {
  // The tenant id comes from our own database, but it is spliced into SQL text (to save two
  // round trips per call), so it must be a well-formed UUID.
  if (!uuidPattern.test(tenantId)) throw new Error("withTenant: malformed tenant id");
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(
      `BEGIN; SET LOCAL ROLE tdb_app; SELECT set_config('tdb.tenant_id', '${tenantId}', true)`,
    );
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    // A connection left in COPY or mid-query cannot be trusted: drop it from the pool.
    await client.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The streaming form of withTenant: the transaction stays open while the consumer pulls
 * values, and closes (commit, or rollback on error or early return) when the stream ends.
 */
export async function* streamWithTenant<T>(
  pool: pg.Pool,
  tenantId: string,
  fn: (client: TenantClient) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  if (!uuidPattern.test(tenantId)) throw new Error("streamWithTenant: malformed tenant id");
  const client = await pool.connect();
  let ok = false;
  let broken = false;
  try {
    await client.query(
      `BEGIN; SET LOCAL ROLE tdb_app; SELECT set_config('tdb.tenant_id', '${tenantId}', true)`,
    );
    yield* fn(client);
    ok = true;
  } finally {
    await client.query(ok ? "COMMIT" : "ROLLBACK").catch(() => {
      broken = true;
    });
    client.release(broken);
  }
}
