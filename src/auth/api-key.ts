import { createHash, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * API key format: `tdbk_` + 32 random bytes in base62 (43 characters) + a 6-character
 * base62 CRC32 of everything before it. The alphabet has no `_`, so the prefix splits
 * cleanly; the checksum lets a leak scanner recognise a real key and lets the server
 * reject a mistyped or invented one before any database work.
 */
export const keyPrefix = "tdbk_";

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const secretLength = 43;
const checksumLength = 6;
const keyPattern = new RegExp(`^${keyPrefix}[0-9A-Za-z]{${secretLength + checksumLength}}$`);

function base62(value: bigint, width: number): string {
  let out = "";
  let v = value;
  while (v > 0n) {
    out = alphabet[Number(v % 62n)] + out;
    v /= 62n;
  }
  return out.padStart(width, "0");
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), checksumLength);
}

/** A new raw key. Shown to its owner once; only its hash is stored. */
export function generateApiKey(): string {
  const body = keyPrefix + base62(BigInt(`0x${randomBytes(32).toString("hex")}`), secretLength);
  return body + checksum(body);
}

/** True when `raw` has the key shape and a matching checksum. */
export function isWellFormedApiKey(raw: string): boolean {
  if (!keyPattern.test(raw)) return false;
  const body = raw.slice(0, -checksumLength);
  return checksum(body) === raw.slice(-checksumLength);
}

/** SHA-256 of the whole raw key: what the database stores and looks keys up by. */
export function hashApiKey(raw: string): Buffer {
  return createHash("sha256").update(raw, "utf8").digest();
}

/** The first 12 characters, shown in listings so people can tell their keys apart. */
export function apiKeyDisplayPrefix(raw: string): string {
  return raw.slice(0, 12);
}
