import type pg from "pg";
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from "../auth/api-key.js";
import { AlreadyExistsError } from "../errors.js";
import { readQuery } from "./db-errors.js";
import { withTenant } from "./tenant-tx.js";

/** A tenant as listed by operators. */
export interface TenantRow {
  id: string;
  name: string;
  createdAt: string;
}

/**
 * Creates a tenant with a first admin key (operators only: runs on the login role, since no
 * tenant exists yet). Returns the raw key, which is never stored.
 */
export async function createTenant(
  pool: pg.Pool,
  name: string,
): Promise<{ tenant: TenantRow; rawKey: string }> {
  const { rows } = await pool.query<TenantRow>(
    `INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING
     RETURNING id, name, created_at::text AS "createdAt"`,
    [name],
  );
  const tenant = rows[0];
  if (!tenant) throw new AlreadyExistsError(`tenant ${name} already exists`);
  const rawKey = generateApiKey();
  await withTenant(pool, tenant.id, (c) =>
    c.query(
      `INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role) VALUES ($1, 'tenant admin', $2, $3, 'admin')`,
      [tenant.id, hashApiKey(rawKey), apiKeyDisplayPrefix(rawKey)],
    ),
  );
  return { tenant, rawKey };
}

/** All tenants, oldest first. */
export async function listTenants(pool: pg.Pool): Promise<TenantRow[]> {
  const { rows } = await pool.query<TenantRow>(
    `SELECT id, name, created_at::text AS "createdAt" FROM tenants ORDER BY created_at, id`,
  );
  return rows;
}

/**
 * A tenant by id or by name, or undefined. Runs on the login role (it bypasses RLS):
 * used by operators (the CLI's --tenant) and by authentication to place static keys and
 * JWTs, before any tenant is set.
 */
export async function findTenant(pool: pg.Pool, idOrName: string): Promise<TenantRow | undefined> {
  const { rows } = await readQuery<TenantRow>(
    pool,
    `SELECT id, name, created_at::text AS "createdAt" FROM tenants
      WHERE name = $1 OR id::text = lower($1) ORDER BY (name = $1) DESC LIMIT 1`,
    [idOrName],
  );
  return rows[0];
}
