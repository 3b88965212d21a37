import type { Privileges } from "../auth/grant-bounds.js";
import type { RoleName } from "../auth/roles.js";
import { AlreadyExistsError } from "../errors.js";
import { createKey, type IssuedKey, lockUsableUserKeys, rotateKey } from "./keys-store.js";
import type { TenantClient } from "./tenant-tx.js";

/**
 * Users of one tenant: people who own keys. Deactivating a user stops every key it owns
 * on the next request (key lookup checks the user's flag each time); activating restores
 * them. All functions run inside withTenant, so other tenants' users are invisible.
 */

/** A user as the store returns it; `createdAtUs` is epoch microseconds as a decimal string. */
export interface UserRow {
  id: string;
  email: string;
  active: boolean;
  createdAtUs: string;
}

/** How callers name a user: by id or by email (lowercased by the caller). */
export type UserRef = { id: string } | { email: string };

const columns = `id::text, email, active, tdb_ts_to_us(created_at)::text AS "createdAtUs"`;

/** Text naming a user reference in messages ("user 1f…" / "user a@b.c"). */
export function describeUser(ref: UserRef): string {
  return `user ${"id" in ref ? ref.id : ref.email}`;
}

/**
 * Creates a user with its first key (named after the email) in one transaction.
 * AlreadyExistsError when the email is taken in this tenant (other tenants do not count).
 */
export async function createUser(
  c: TenantClient,
  tenantId: string,
  email: string,
  role: RoleName,
): Promise<{ user: UserRow } & IssuedKey> {
  const { rows } = await c.query<UserRow>(
    `INSERT INTO users (tenant_id, email) VALUES ($1, $2)
     ON CONFLICT (tenant_id, email) DO NOTHING RETURNING ${columns}`,
    [tenantId, email],
  );
  const user = rows[0];
  if (!user) throw new AlreadyExistsError(`user ${email} already exists`);
  const issued = await createKey(c, tenantId, {
    name: email,
    role,
    expiresInDays: undefined,
    rateLimit: undefined,
    allowedMethods: [],
    userId: user.id,
  });
  return { user, ...issued };
}

/** A page of users, oldest first; inactive ones only when asked. */
export async function listUsers(
  c: TenantClient,
  page: { includeInactive: boolean; limit: number; after?: { createdAtUs: string; id: string } },
): Promise<UserRow[]> {
  const { rows } = await c.query<UserRow>(
    `SELECT ${columns} FROM users
      WHERE ($1 OR active)
        AND ($2::int8 IS NULL OR (created_at, id) > (tdb_us_to_ts($2::int8), $3::uuid))
      ORDER BY created_at, id LIMIT $4`,
    [page.includeInactive, page.after?.createdAtUs ?? null, page.after?.id ?? null, page.limit],
  );
  return rows;
}

/**
 * Activates or deactivates a user; undefined when there is no such user in this tenant.
 * The user and its usable keys are locked first and `check` sees each of those keys before
 * the flag changes, and may throw to refuse: the flag switches all of them on or off.
 */
export async function setUserActive(
  c: TenantClient,
  ref: UserRef,
  active: boolean,
  check: (key: Privileges) => void = () => {},
): Promise<UserRow | undefined> {
  const user = await lockUser(c, ref);
  if (!user) return undefined;
  for (const key of await lockUsableUserKeys(c, user.id)) check(key);
  const { rows } = await c.query<UserRow>(`UPDATE users SET active = $2 WHERE id = $1 RETURNING ${columns}`, [
    user.id,
    active,
  ]);
  return rows[0];
}

/** A user, locked until the transaction ends (serialises key regeneration per user). */
export async function lockUser(c: TenantClient, ref: UserRef): Promise<UserRow | undefined> {
  const [where, value] = "id" in ref ? ["id = $1::uuid", ref.id] : ["email = $1", ref.email];
  const { rows } = await c.query<UserRow>(`SELECT ${columns} FROM users WHERE ${where} FOR UPDATE`, [value]);
  return rows[0];
}

/**
 * Rotates every usable key of the user (not revoked, not expired), oldest first, and
 * returns the first replacement. A user left with no usable key gets a new one named
 * after its email, with the role of its most recent key (readwrite if it never had one).
 * Undefined when there is no such user. `check` may refuse a key before it is rotated or
 * issued.
 */
export async function regenerateUserKey(
  c: TenantClient,
  tenantId: string,
  ref: UserRef,
  check: (key: Privileges) => void = () => {},
): Promise<IssuedKey | undefined> {
  const user = await lockUser(c, ref);
  if (!user) return undefined;
  let first: IssuedKey | undefined;
  for (const { id } of await lockUsableUserKeys(c, user.id)) {
    const issued = await rotateKey(c, id, check);
    first ??= issued;
  }
  if (first) return first;
  const { rows: last } = await c.query<{ role: RoleName }>(
    "SELECT role FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    [user.id],
  );
  const role = last[0]?.role ?? "readwrite";
  return createKey(
    c,
    tenantId,
    {
      name: user.email,
      role,
      expiresInDays: undefined,
      rateLimit: undefined,
      allowedMethods: [],
      userId: user.id,
    },
    check,
  );
}
