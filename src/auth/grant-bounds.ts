import type { Principal } from "./principal.js";
import { type RoleName, roleSatisfies } from "./roles.js";

/**
 * The privileges a key carries. A KeyRow is one, so a stored key can be compared as it is;
 * a key about to be created or changed is described by the settings it will have.
 */
export interface Privileges {
  role: RoleName;
  /** Empty = no restriction. */
  allowedMethods: readonly string[];
  /** Expiry, epoch microseconds as a decimal string; null = never. */
  expiresAtUs: string | null;
  /** Requests per minute; null = the server default. */
  rateLimit: number | null;
}

/** What a caller brings to the comparison: its principal's privileges and how it proved itself. */
export type Grantor = Pick<Principal, "role" | "allowedMethods" | "kind" | "rateLimit" | "expiresAtUs">;

/**
 * Why a key exceeds the caller, as two phrases for a message: what the caller holds
 * ("expires at …") and what the key has beyond it ("never expires").
 */
export interface Excess {
  held: string;
  wanted: string;
}

/**
 * The first bound by which `wanted` exceeds `caller`, or undefined when the caller covers
 * it. In order: a role above the caller's; and, only for a caller restricted to an
 * allow-list, an empty allow-list or methods outside the caller's, an expiry later than
 * the caller's own (never counts as latest), an effective rate limit (null =
 * `defaultRateLimit`) above the caller's effective one.
 *
 * An unrestricted caller is bounded by its role alone: an unrestricted admin keeps full
 * power inside its tenant. Static keys never expire and, like JWTs, are not rate-limited,
 * so those two bounds never hold them back (a JWT's exp is not carried in the principal);
 * their role and allow-list are checked as for any key.
 */
export function exceededBound(
  caller: Grantor,
  wanted: Privileges,
  defaultRateLimit: number,
): Excess | undefined {
  if (!roleSatisfies(caller.role, wanted.role)) {
    return { held: `has role ${caller.role}`, wanted: `has role ${wanted.role}` };
  }
  if (caller.allowedMethods.length === 0) return undefined;
  const restricted = "is restricted to a method allow-list";
  if (wanted.allowedMethods.length === 0) return { held: restricted, wanted: "has no method allow-list" };
  const outside = wanted.allowedMethods.filter((m) => !caller.allowedMethods.includes(m));
  if (outside.length > 0) return { held: restricted, wanted: `may call ${outside.join(", ")} outside it` };
  const callerExpiry = caller.expiresAtUs;
  if (callerExpiry !== undefined) {
    if (wanted.expiresAtUs === null) {
      return { held: `expires at ${isoTime(callerExpiry)}`, wanted: "never expires" };
    }
    if (BigInt(wanted.expiresAtUs) > BigInt(callerExpiry)) {
      return {
        held: `expires at ${isoTime(callerExpiry)}`,
        wanted: `expires later (${isoTime(wanted.expiresAtUs)})`,
      };
    }
  }
  if (caller.kind === "api_key") {
    const callerLimit = caller.rateLimit ?? defaultRateLimit;
    const wantedLimit = wanted.rateLimit ?? defaultRateLimit;
    if (wantedLimit > callerLimit) {
      return {
        held: `may make ${callerLimit} requests per minute`,
        wanted: `may make ${wantedLimit}${wanted.rateLimit === null ? " (the server default)" : ""}`,
      };
    }
  }
  return undefined;
}

/**
 * True when `caller` holds at least the privileges `wanted` (see exceededBound).
 * KeyAdminService requires this before it creates a key, changes one, copies one by
 * rotation, revokes one, or (de)activates a user, for every usable key of that user; so no
 * key — its own included — can be given more than the caller holds, and a restricted key
 * cannot switch off keys that out-rank it. Non-admin keys cannot reach KeyAdminService at
 * all, and an admin key restricted to a few methods cannot mint, widen or outlive itself.
 */
export function covers(caller: Grantor, wanted: Privileges, defaultRateLimit: number): boolean {
  return exceededBound(caller, wanted, defaultRateLimit) === undefined;
}

/** Epoch microseconds (decimal string) as an RFC 3339 UTC time, to the millisecond. */
function isoTime(us: string): string {
  return new Date(Number(BigInt(us) / 1000n)).toISOString();
}
