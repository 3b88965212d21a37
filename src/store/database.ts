import pg from "pg";
import type { Config } from "../config.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";

/** The pool every store function uses, and how to shut it (and an embedded server) down. */
export interface Database {
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

// timestamptz stays a string when anything reads it through pg's default parser: Date
// loses microseconds. Store code asks PostgreSQL for epoch microseconds instead.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/** Connects to TDB_DATABASE_URL, or starts the embedded PostgreSQL when it is unset. */
export async function openDatabase(
  config: Pick<
    Config,
    | "TDB_DATABASE_URL"
    | "TDB_DATA_DIR"
    | "TDB_EMBEDDED_PG_PORT"
    | "TDB_DB_POOL_SIZE"
    | "TDB_DB_ACQUIRE_TIMEOUT"
  >,
): Promise<Database> {
  const embedded =
    config.TDB_DATABASE_URL === undefined
      ? await startEmbeddedPostgres(config.TDB_DATA_DIR, config.TDB_EMBEDDED_PG_PORT)
      : undefined;
  const url = config.TDB_DATABASE_URL ?? embedded?.url ?? "";
  const pool = createPool(url, config);
  return {
    pool,
    url,
    embedded: embedded !== undefined,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

/**
 * The connection pool of one server process. Its size is the database budget that
 * admission control shares out (README, Reliability): streams may hold at most
 * TDB_DB_STREAM_CONNECTIONS of it, so unary calls always find room. A caller that cannot
 * get a connection within TDB_DB_ACQUIRE_TIMEOUT seconds fails (`Unavailable`) instead of
 * queueing without bound.
 */
export function createPool(
  url: string,
  config: Pick<Config, "TDB_DB_POOL_SIZE" | "TDB_DB_ACQUIRE_TIMEOUT">,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: config.TDB_DB_POOL_SIZE,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: Math.round(config.TDB_DB_ACQUIRE_TIMEOUT * 1000),
    // A half-open TCP connection (a failover, a cut network) is noticed by the kernel.
    keepAlive: true,
  });
  // An idle client's error (e.g. the server restarting) must not crash the process; a
  // checked-out client gets its own listener in tenant-tx.ts.
  pool.on("error", () => {});
  return pool;
}

/**
 * Fails fast when the login role cannot do what the server needs: look up keys across
 * tenants (superuser or BYPASSRLS) and switch to tdb_app for tenant queries.
 */
export async function checkPrivileges(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
  );
  const r = rows[0];
  if (!r || !(r.rolsuper || r.rolbypassrls)) {
    throw new Error(
      "the database user must be a superuser or have BYPASSRLS (it looks up keys across tenants); tenant queries still run as the restricted role tdb_app",
    );
  }
}
