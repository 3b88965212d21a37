import type pg from "pg";
import { DatabaseUnavailableError, isConnectionLost } from "./db-errors.js";

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
  const { client, link } = await begin(pool, tenantId);
  try {
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    // A connection left in COPY or mid-query cannot be trusted: drop it from the pool.
    await client.query("ROLLBACK").catch(() => {
      link.broken = true;
    });
    throw link.explain(err);
  } finally {
    link.release();
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
  const { client, link } = await begin(pool, tenantId);
  let ok = false;
  try {
    yield* fn(client);
    ok = true;
  } catch (err) {
    throw link.explain(err);
  } finally {
    await client.query(ok ? "COMMIT" : "ROLLBACK").catch(() => {
      link.broken = true;
    });
    link.release();
  }
}

/**
 * Checks out a connection and opens the tenant transaction on it. A pooled connection that
 * PostgreSQL has ended (a restart, a terminated backend) may not have told the pool yet;
 * failing on BEGIN nothing has happened, so the call takes another connection, up to the
 * pool's size, instead of failing a caller who came after the fault.
 */
async function begin(pool: pg.Pool, tenantId: string) {
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    const link = watch(client);
    try {
      await client.query(
        `BEGIN; SET LOCAL ROLE tdb_app; SELECT set_config('tdb.tenant_id', '${tenantId}', true)`,
      );
      return { client, link };
    } catch (err) {
      link.broken = true;
      link.release();
      if (!isConnectionLost(err) || attempt >= (pool.options.max ?? 10)) throw link.explain(err);
    }
  }
}

/**
 * Watches a checked-out connection. pg-pool drops its own 'error' listener while a client
 * is checked out; without one, a connection that PostgreSQL ends mid-call (a terminated
 * backend, a restart, an idle timeout) is an unhandled 'error' event that ends the
 * process. Once the connection has failed, whatever the call then throws (a rejected
 * query, or a COPY stream tripping over its vanished connection) is that failure:
 * `explain` turns it into DatabaseUnavailableError (answered `Unavailable`), and
 * `release` discards the connection instead of pooling it.
 */
function watch(client: pg.PoolClient) {
  const link = {
    broken: false,
    lost: false,
    explain(err: unknown): unknown {
      if (err instanceof DatabaseUnavailableError) return err;
      return link.lost || isConnectionLost(err) ? new DatabaseUnavailableError(err) : err;
    },
    release() {
      client.off("error", onError);
      client.release(link.broken || link.lost);
    },
  };
  const onError = () => {
    link.lost = true;
  };
  client.on("error", onError);
  return link;
}
