import type { KeyRow } from "../store/keys-store.js";
import type { TenantRow } from "../store/tenants.js";
import type { UserRow } from "../store/users-store.js";

/** The warning printed with every new raw key. */
export const saveKeyWarning =
  "save this key now: it is shown this once and cannot be recovered (only its hash is stored)";

/** Writes `value` as one JSON document (for --json) or `text` lines for people. */
export function emit(json: boolean, value: unknown, text: () => string[]): void {
  const out = json ? JSON.stringify(value, null, 2) : text().join("\n");
  if (out !== "") process.stdout.write(`${out}\n`);
}

/** ISO-8601 with microseconds, from epoch microseconds as a decimal string. */
export function isoFromUs(us: string | null): string | null {
  if (us === null) return null;
  const n = BigInt(us);
  const ms = n / 1000n - (n % 1000n < 0n ? 1n : 0n);
  const micros = ((n % 1000n) + 1000n) % 1000n;
  return new Date(Number(ms)).toISOString().replace("Z", `${String(micros).padStart(3, "0")}Z`);
}

/** ISO-8601 from PostgreSQL's text form of a timestamptz in UTC ("2026-01-02 03:04:05.123456+00"). */
export function isoFromPg(text: string): string {
  return text.replace(" ", "T").replace(/\+00$/, "Z");
}

/** A key's metadata as the CLI shows it in JSON: the proto's JSON names, never the raw key. */
export function keyJson(k: KeyRow) {
  return {
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    role: k.role,
    createdAt: isoFromUs(k.createdAtUs),
    expiresAt: isoFromUs(k.expiresAtUs),
    revokedAt: isoFromUs(k.revokedAtUs),
    lastUsedAt: isoFromUs(k.lastUsedAtUs),
    rateLimit: k.rateLimit,
    allowedMethods: k.allowedMethods,
    userId: k.userId,
  };
}

/** A user as JSON. */
export function userJson(u: UserRow) {
  return { id: u.id, email: u.email, active: u.active, createdAt: isoFromUs(u.createdAtUs) };
}

/** A tenant as JSON. */
export function tenantJson(t: TenantRow) {
  return { id: t.id, name: t.name, createdAt: isoFromPg(t.createdAt) };
}

/** Human lines for one key. */
export function keyLines(k: KeyRow): string[] {
  const state = k.revokedAtUs
    ? `revoked ${isoFromUs(k.revokedAtUs)}`
    : k.expiresAtUs && BigInt(k.expiresAtUs) <= BigInt(Date.now()) * 1000n
      ? `expired ${isoFromUs(k.expiresAtUs)}`
      : "active";
  return [
    `${k.id}  ${k.keyPrefix}…  ${k.name}`,
    `  role ${k.role}, ${state}, expires ${isoFromUs(k.expiresAtUs) ?? "never"}, ` +
      `rate limit ${k.rateLimit ?? "default"}/min, last used ${isoFromUs(k.lastUsedAtUs) ?? "never"}` +
      (k.userId ? `, user ${k.userId}` : "") +
      (k.allowedMethods.length > 0 ? `, methods ${k.allowedMethods.join(" ")}` : ""),
  ];
}

/** Human lines for a newly issued key: its metadata, the raw key, and the warning. */
export function issuedLines(k: KeyRow, rawKey: string): string[] {
  return [...keyLines(k), `raw key: ${rawKey}`, `  ${saveKeyWarning}`];
}

/** Human line for one user. */
export function userLine(u: UserRow): string {
  return `${u.id}  ${u.email}  ${u.active ? "active" : "inactive"}  created ${isoFromUs(u.createdAtUs)}`;
}
