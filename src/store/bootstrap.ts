import type pg from "pg";
import { createTenant } from "./tenants.js";

/**
 * On an empty database, creates the tenant "default" with one admin key and returns the
 * raw key (to be printed once). Returns undefined when any tenant exists already. Several
 * servers starting at once on one database create it once (advisory lock).
 */
export async function bootstrapDefaultTenant(pool: pg.Pool): Promise<string | undefined> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(7120252)");
    const { rows } = await client.query("SELECT 1 FROM tenants LIMIT 1");
    if (rows.length > 0) return undefined;
    return (await createTenant(pool, "default")).rawKey;
  } finally {
    await client.query("SELECT pg_advisory_unlock(7120252)").catch(() => {});
    client.release();
  }
}
