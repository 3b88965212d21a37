import { createHash, timingSafeEqual } from "node:crypto";
import type { RoleName } from "./roles.js";

/**
 * Static keys from `TDB_STATIC_KEYS`, for automation and bootstrap: a comma-separated
 * list of `name:tenant:role:secret`, e.g.
 * `ci:default:readwrite:3q7…,ops:6b1f…-…:admin:Zx9…`.
 *
 * - `name`: 1–64 of `A-Z a-z 0-9 _ . -`, logged as the key id `static:<name>`;
 * - `tenant`: the tenant's id or name (resolved when the key is used, so the tenant may
 *   be created after the server starts);
 * - `role`: `read`, `readwrite` or `admin`;
 * - `secret`: at least 32 characters, no commas (colons are fine: everything after the
 *   third colon is the secret). It is sent like an API key (`x-api-key` or Bearer).
 *
 * Only SHA-256 digests are kept in memory; a presented credential is hashed and compared
 * with every configured digest by `crypto.timingSafeEqual`, without stopping at a match,
 * so neither the comparison nor the number of comparisons depends on the secret.
 */
export interface StaticKey {
  name: string;
  tenant: string;
  role: RoleName;
  digest: Buffer;
}

/** Thrown at start when TDB_STATIC_KEYS is malformed; the message names the entry. */
export class StaticKeysError extends Error {}

const namePattern = /^[A-Za-z0-9_.-]{1,64}$/;
const minSecretLength = 32;

/** Parses TDB_STATIC_KEYS (undefined or blank = none). */
export function parseStaticKeys(spec: string | undefined): StaticKey[] {
  if (spec === undefined || spec.trim() === "") return [];
  const keys = spec.split(",").map((raw, i) => {
    const entry = raw.trim();
    const [name = "", tenant = "", role = "", ...rest] = entry.split(":");
    const secret = rest.join(":");
    const where = `invalid TDB_STATIC_KEYS: entry ${i + 1}`;
    if (!namePattern.test(name)) {
      throw new StaticKeysError(
        `${where}: expected name:tenant:role:secret with a name of A-Z a-z 0-9 _ . -`,
      );
    }
    if (tenant === "") throw new StaticKeysError(`${where} (${name}): tenant is empty`);
    if (role !== "read" && role !== "readwrite" && role !== "admin") {
      throw new StaticKeysError(`${where} (${name}): role must be read, readwrite or admin`);
    }
    if (secret.length < minSecretLength) {
      throw new StaticKeysError(`${where} (${name}): secret must be at least ${minSecretLength} characters`);
    }
    return { name, tenant, role, digest: digest(secret) } satisfies StaticKey;
  });
  const names = new Set<string>();
  for (const k of keys) {
    if (names.has(k.name)) throw new StaticKeysError(`invalid TDB_STATIC_KEYS: name ${k.name} appears twice`);
    names.add(k.name);
  }
  return keys;
}

/** The configured key whose secret is `credential`, compared in constant time; else undefined. */
export function matchStaticKey(keys: readonly StaticKey[], credential: string): StaticKey | undefined {
  const presented = digest(credential);
  let found: StaticKey | undefined;
  for (const k of keys) {
    // Every entry is compared, match or not: the time taken reveals nothing.
    if (timingSafeEqual(k.digest, presented) && found === undefined) found = k;
  }
  return found;
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
