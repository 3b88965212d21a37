import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { InvalidInputError } from "../errors.js";
import { type RoleName, roleName } from "./roles.js";

/**
 * Validation of the settings a key or user is created or changed with. Shared by
 * KeyAdminService and the `tdb` CLI, so both refuse the same input with the same message
 * (an InvalidInputError naming the field).
 */

/** Longest validity a key may be created with: ten years. */
export const maxExpiresInDays = 3650;
/** Highest per-key limit, requests per minute (the same bound as TDB_DEFAULT_RATE_LIMIT). */
export const maxRateLimit = 1_000_000;

/** Every method a key may be restricted to: "tdb.v1.TimeSeriesService/ReadValues", … */
export const knownMethods: ReadonlySet<string> = new Set(
  [TimeSeriesService, KeyAdminService].flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`)),
);

/** A key name: 1–100 characters, not blank. */
export function keyName(field: string, name: string): string {
  const trimmed = name.trim();
  if (trimmed === "") throw new InvalidInputError(field, "is required (1–100 characters)");
  if (trimmed.length > 100) throw new InvalidInputError(field, "must be at most 100 characters");
  return trimmed;
}

/** A proto role; ROLE_UNSPECIFIED means `fallback`. */
export function roleFrom(field: string, role: Role, fallback: RoleName): RoleName {
  if (role === Role.UNSPECIFIED) return fallback;
  const name = roleName(role);
  if (!name) throw new InvalidInputError(field, `unknown role ${role}`);
  return name;
}

/** A role given by name ("read", "readwrite", "admin"), as the CLI takes it. */
export function roleNamed(field: string, name: string): RoleName {
  if (name === "read" || name === "readwrite" || name === "admin") return name;
  throw new InvalidInputError(field, `must be read, readwrite or admin, got ${JSON.stringify(name)}`);
}

/** Days until expiry: 0 = never, else 1–3650. */
export function expiresInDays(field: string, days: number): number | undefined {
  if (!Number.isInteger(days) || days < 0 || days > maxExpiresInDays) {
    throw new InvalidInputError(field, `must be 0 (never) or 1–${maxExpiresInDays} days`);
  }
  return days === 0 ? undefined : days;
}

/** Requests per minute: 0 = the server default, else 1–1000000. */
export function rateLimit(field: string, perMinute: number): number | undefined {
  if (!Number.isInteger(perMinute) || perMinute < 0 || perMinute > maxRateLimit) {
    throw new InvalidInputError(field, `must be 0 (server default) or 1–${maxRateLimit} requests per minute`);
  }
  return perMinute === 0 ? undefined : perMinute;
}

/**
 * A method allow-list: fully-qualified names of existing methods, deduplicated and sorted.
 * Unknown names are refused so a typo cannot silently lock a key out of everything.
 */
export function allowedMethods(field: string, methods: readonly string[]): string[] {
  if (methods.length > 100) throw new InvalidInputError(field, "at most 100 methods");
  methods.forEach((m, i) => {
    if (!knownMethods.has(m)) {
      throw new InvalidInputError(
        `${field}[${i}]`,
        `unknown method ${JSON.stringify(m)}; use the fully-qualified form, e.g. "tdb.v1.TimeSeriesService/ReadValues"`,
      );
    }
  });
  return [...new Set(methods)].sort();
}

const emailPattern = /^[^\s@]+@[^\s@]+$/;

/** An email address, lowercased: emails are unique per tenant, case-insensitively. */
export function email(field: string, value: string): string {
  const v = value.trim().toLowerCase();
  if (v === "") throw new InvalidInputError(field, "is required");
  if (v.length > 254 || !emailPattern.test(v)) {
    throw new InvalidInputError(field, "is not an email address");
  }
  return v;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An opaque key or user id (a UUID). Lowercased so lookups match what the server hands out. */
export function opaqueId(field: string, value: string): string {
  if (value === "") throw new InvalidInputError(field, "is required");
  if (!uuidPattern.test(value)) throw new InvalidInputError(field, "is not an id issued by this server");
  return value.toLowerCase();
}

/** True for strings shaped like the ids this server hands out. */
export function looksLikeId(value: string): boolean {
  return uuidPattern.test(value);
}
