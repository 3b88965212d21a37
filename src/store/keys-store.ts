import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from "../auth/api-key.js";
import type { Privileges } from "../auth/grant-bounds.js";
import type { RoleName } from "../auth/roles.js";
import { NotFoundError } from "../errors.js";
import type { TenantClient } from "./tenant-tx.js";

/**
 * API keys of one tenant. Every function takes a TenantClient (a connection inside
 * withTenant), so row-level security hides other tenants' keys: another tenant's id
 * behaves exactly like a missing one. Raw keys are generated here, returned once and
 * never stored; only their SHA-256 is.
 */

/** A key's metadata as the store returns it; times are epoch microseconds as decimal strings. */
export interface KeyRow {
  id: string;
  name: string;
  keyPrefix: string;
  role: RoleName;
  createdAtUs: string;
  expiresAtUs: string | null;
  revokedAtUs: string | null;
  lastUsedAtUs: string | null;
  rateLimit: number | null;
  allowedMethods: string[];
  userId: string | null;
}

/** A key row together with its raw key, which exists only in this return value. */
export interface IssuedKey {
  key: KeyRow;
  rawKey: string;
}

/** What a new key is made of (validated by the caller). */
export interface NewKey {
  name: string;
  role: RoleName;
  /** undefined = never expires. */
  expiresInDays: number | undefined;
  /** undefined = the server default. */
  rateLimit: number | undefined;
  allowedMethods: readonly string[];
  userId: string | undefined;
}

/** Thrown by rotateKey for an expired key: its replacement would be born expired. */
export class KeyExpiredError extends Error {}

const columns = `id::text, name, key_prefix AS "keyPrefix", role,
  tdb_ts_to_us(created_at)::text AS "createdAtUs", tdb_ts_to_us(expires_at)::text AS "expiresAtUs",
  tdb_ts_to_us(revoked_at)::text AS "revokedAtUs", tdb_ts_to_us(last_used_at)::text AS "lastUsedAtUs",
  rate_limit AS "rateLimit", allowed_methods AS "allowedMethods", user_id::text AS "userId"`;

/**
 * Creates a key. NotFoundError when `userId` names no user of this tenant. `check` sees the
 * new key's privileges, its expiry as it will be stored, before anything is written, and
 * may throw to refuse.
 */
export async function createKey(
  c: TenantClient,
  tenantId: string,
  k: NewKey,
  check: (key: Privileges) => void = () => {},
): Promise<IssuedKey> {
  if (k.userId !== undefined) {
    const user = await c.query("SELECT 1 FROM users WHERE id = $1", [k.userId]);
    if (user.rowCount === 0) throw new NotFoundError(`user ${k.userId} not found`);
  }
  // The expiry is fixed from the database clock before the check, and that value is the one
  // stored, so a bound on expiry compares exactly what the key will carry.
  const { rows: expiry } = await c.query<{ expiresAtUs: string | null }>(
    `SELECT tdb_ts_to_us(now() + make_interval(days => $1::int))::text AS "expiresAtUs"`,
    [k.expiresInDays ?? null],
  );
  const expiresAtUs = expiry[0]?.expiresAtUs ?? null;
  check({ role: k.role, allowedMethods: k.allowedMethods, expiresAtUs, rateLimit: k.rateLimit ?? null });
  const rawKey = generateApiKey();
  const { rows } = await c.query<KeyRow>(
    `INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role, expires_at, rate_limit, allowed_methods, user_id)
     VALUES ($1, $2, $3, $4, $5, tdb_us_to_ts($6::int8), $7, $8, $9)
     RETURNING ${columns}`,
    [
      tenantId,
      k.name,
      hashApiKey(rawKey),
      apiKeyDisplayPrefix(rawKey),
      k.role,
      expiresAtUs,
      k.rateLimit ?? null,
      [...k.allowedMethods],
      k.userId ?? null,
    ],
  );
  return { key: rows[0] as KeyRow, rawKey };
}

/** A page of keys (active, expired and revoked), oldest first; `after` is the last key seen. */
export async function listKeys(
  c: TenantClient,
  page: { limit: number; after?: { createdAtUs: string; id: string } },
): Promise<KeyRow[]> {
  const { rows } = await c.query<KeyRow>(
    `SELECT ${columns} FROM api_keys
      WHERE ($1::int8 IS NULL OR (created_at, id) > (tdb_us_to_ts($1::int8), $2::uuid))
      ORDER BY created_at, id LIMIT $3`,
    [page.after?.createdAtUs ?? null, page.after?.id ?? null, page.limit],
  );
  return rows;
}

/** One key by id, in any state; undefined when missing (or another tenant's). */
export async function getKey(c: TenantClient, id: string): Promise<KeyRow | undefined> {
  const { rows } = await c.query<KeyRow>(`SELECT ${columns} FROM api_keys WHERE id = $1`, [id]);
  return rows[0];
}

/**
 * A key that is not revoked, locked until the transaction ends, so a concurrent revoke,
 * rotation or change waits for this one and then sees its outcome.
 */
export async function lockLiveKey(c: TenantClient, id: string): Promise<KeyRow | undefined> {
  const { rows } = await c.query<KeyRow>(
    `SELECT ${columns} FROM api_keys WHERE id = $1 AND revoked_at IS NULL FOR UPDATE`,
    [id],
  );
  return rows[0];
}

/**
 * The usable keys of a user (not revoked, not expired), oldest first, locked until the
 * transaction ends, so a change to one of them waits until a check made on them is acted on.
 */
export async function lockUsableUserKeys(c: TenantClient, userId: string): Promise<KeyRow[]> {
  const { rows } = await c.query<KeyRow>(
    `SELECT ${columns} FROM api_keys
      WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
      ORDER BY created_at, id FOR UPDATE`,
    [userId],
  );
  return rows;
}

/** Revokes a key for good; undefined when it is missing or already revoked. */
export async function revokeKey(c: TenantClient, id: string): Promise<KeyRow | undefined> {
  const { rows } = await c.query<KeyRow>(
    `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${columns}`,
    [id],
  );
  return rows[0];
}

/**
 * Revokes a live key and issues its replacement with the same name, role, expiry (copied,
 * never extended), rate limit, allow-list and user, in the caller's transaction. The old
 * row is locked first: of two concurrent rotations one wins, and the other, after the
 * winner commits, no longer finds a live key and returns undefined. `check` sees the
 * locked key before anything changes and may throw to refuse.
 */
export async function rotateKey(
  c: TenantClient,
  id: string,
  check: (key: Privileges) => void = () => {},
): Promise<IssuedKey | undefined> {
  const old = await lockLiveKey(c, id);
  if (!old) return undefined;
  check(old);
  const { rows: expired } = await c.query(
    "SELECT 1 FROM api_keys WHERE id = $1 AND expires_at IS NOT NULL AND expires_at <= now()",
    [id],
  );
  if (expired.length > 0) {
    throw new KeyExpiredError(`key ${id} has expired; rotation keeps the expiry, so create a new key`);
  }
  await c.query("UPDATE api_keys SET revoked_at = now() WHERE id = $1", [id]);
  const rawKey = generateApiKey();
  const { rows } = await c.query<KeyRow>(
    `INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role, expires_at, rate_limit, allowed_methods, user_id)
     SELECT tenant_id, name, $2, $3, role, expires_at, rate_limit, allowed_methods, user_id
       FROM api_keys WHERE id = $1
     RETURNING ${columns}`,
    [id, hashApiKey(rawKey), apiKeyDisplayPrefix(rawKey)],
  );
  return { key: rows[0] as KeyRow, rawKey };
}

/** Sets a live key's role; undefined when it is missing or revoked. */
export async function setKeyRole(c: TenantClient, id: string, role: RoleName): Promise<KeyRow | undefined> {
  return updateLive(c, id, "role = $2", [role]);
}

/** Sets a live key's allow-list (empty = unrestricted); undefined when missing or revoked. */
export async function setKeyAllowedMethods(
  c: TenantClient,
  id: string,
  methods: readonly string[],
): Promise<KeyRow | undefined> {
  return updateLive(c, id, "allowed_methods = $2", [[...methods]]);
}

/** Sets a live key's rate limit (null = the server default); undefined when missing or revoked. */
export async function setKeyRateLimit(
  c: TenantClient,
  id: string,
  perMinute: number | null,
): Promise<KeyRow | undefined> {
  return updateLive(c, id, "rate_limit = $2", [perMinute]);
}

async function updateLive(
  c: TenantClient,
  id: string,
  assignment: string,
  values: unknown[],
): Promise<KeyRow | undefined> {
  const { rows } = await c.query<KeyRow>(
    `UPDATE api_keys SET ${assignment} WHERE id = $1 AND revoked_at IS NULL RETURNING ${columns}`,
    [id, ...values],
  );
  return rows[0];
}
