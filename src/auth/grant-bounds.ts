import type { Principal } from "./principal.js";
import { type RoleName, roleSatisfies } from "./roles.js";

/** The privileges a key carries: its role and its method allow-list (empty = no restriction). */
export interface Privileges {
  role: RoleName;
  allowedMethods: readonly string[];
}

/**
 * True when `caller` holds at least the privileges `wanted`: a role no higher than its
 * own, and, when the caller is restricted to an allow-list, a non-empty allow-list inside
 * it. KeyAdminService checks this before it creates a key, changes a key's role or
 * allow-list, or copies a key's settings by rotation, so no key — its own included — can
 * ever be given more than the caller holds. This is what "a key cannot raise its own
 * role" means: non-admin keys cannot reach KeyAdminService at all, and an admin key
 * restricted to a few methods cannot mint or widen an unrestricted one.
 */
export function covers(caller: Pick<Principal, "role" | "allowedMethods">, wanted: Privileges): boolean {
  if (!roleSatisfies(caller.role, wanted.role)) return false;
  if (caller.allowedMethods.length === 0) return true;
  if (wanted.allowedMethods.length === 0) return false;
  return wanted.allowedMethods.every((m) => caller.allowedMethods.includes(m));
}
