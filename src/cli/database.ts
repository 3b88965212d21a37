import type pg from "pg";
import { loadConfig } from "../config.js";
import { checkPrivileges, openDatabase } from "../store/database.js";
import { migrate } from "../store/migrate.js";
import { findTenant, listTenants } from "../store/tenants.js";
import { CliError, exitCodes } from "./exit-codes.js";

/** Options every database command takes. */
export interface DatabaseOptions {
  dsn?: string;
}

/**
 * Runs `fn` with a pool on `--dsn`, else TDB_DATABASE_URL, else the embedded PostgreSQL in
 * TDB_DATA_DIR — the one the server uses: shared when the server is running, started for
 * the command and stopped afterwards when it is not. Pending migrations are applied first
 * (as the server does at start), so the CLI works on a fresh data folder.
 */
export async function withDatabase<T>(
  opts: DatabaseOptions,
  fn: (pool: pg.Pool, applied: number[]) => Promise<T>,
): Promise<T> {
  const env = opts.dsn === undefined ? process.env : { ...process.env, TDB_DATABASE_URL: opts.dsn };
  const config = loadConfig(env);
  const db = await openDatabase(config);
  try {
    await checkPrivileges(db.pool);
    const applied = await migrate(db.pool);
    return await fn(db.pool, applied);
  } finally {
    await db.close();
  }
}

/**
 * The tenant named by `--tenant` (a name or an id; default TDB_TENANT). Without either,
 * the only tenant when there is exactly one, so a single-tenant install needs no flag.
 */
export async function resolveTenant(
  pool: pg.Pool,
  tenant: string | undefined,
): Promise<{ id: string; name: string }> {
  const wanted = tenant ?? process.env.TDB_TENANT;
  if (wanted !== undefined && wanted !== "") {
    const found = await findTenant(pool, wanted);
    if (!found) throw new CliError(`tenant ${wanted} not found`, exitCodes.notFound);
    return found;
  }
  const all = await listTenants(pool);
  const only = all[0];
  if (all.length === 1 && only) return only;
  if (all.length === 0) {
    throw new CliError("no tenant exists yet: create one with `tdb tenants create NAME`", exitCodes.notFound);
  }
  throw new CliError(
    `--tenant is required: ${all.length} tenants exist (${all.map((t) => t.name).join(", ")})`,
    exitCodes.usage,
  );
}
