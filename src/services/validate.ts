import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { InvalidInputError } from "../errors.js";

/** Earliest and latest accepted time: years 0001–9999, in microseconds since the Unix epoch. */
export const minTimeUs = -62_135_596_800_000_000n;
export const maxTimeUs = 253_402_300_799_999_999n;

/** A required, bounded string. */
export function requireText(field: string, value: string, max: number): string {
  if (value.trim() === "") throw new InvalidInputError(field, "is required");
  if (value.length > max) throw new InvalidInputError(field, `must be at most ${max} characters`);
  return value;
}

/** An optional bounded string. */
export function boundedText(field: string, value: string, max: number): string {
  if (value.length > max) throw new InvalidInputError(field, `must be at most ${max} characters`);
  return value;
}

const labelKey = /^[A-Za-z0-9_.-]{1,100}$/;

/** Labels: keys of [A-Za-z0-9_.-] (1–100), values up to 200 characters. */
export function validLabels(field: string, labels: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(labels)) {
    if (!labelKey.test(k))
      throw new InvalidInputError(
        `${field}[${JSON.stringify(k)}]`,
        "label keys are 1–100 characters of A-Z a-z 0-9 _ . -",
      );
    if (v.length > 200)
      throw new InvalidInputError(
        `${field}[${JSON.stringify(k)}]`,
        "label values are at most 200 characters",
      );
  }
  return labels;
}

/** A series id: the opaque decimal string the API hands out. */
export function seriesIdFrom(field: string, value: string): bigint {
  return opaqueId(field, value, "series");
}

/** A run id. */
export function runIdFrom(field: string, value: string): bigint {
  return opaqueId(field, value, "run");
}

function opaqueId(field: string, value: string, what: string): bigint {
  if (value === "") throw new InvalidInputError(field, "is required");
  if (!/^[1-9][0-9]{0,18}$/.test(value) || BigInt(value) > 9_223_372_036_854_775_807n) {
    throw new InvalidInputError(field, `is not a ${what} id`);
  }
  return BigInt(value);
}

/** Microseconds inside the accepted range. */
export function timeUs(field: string, us: bigint): bigint {
  if (us < minTimeUs || us > maxTimeUs)
    throw new InvalidInputError(field, "time out of range (years 0001–9999)");
  return us;
}

/** A Timestamp as microseconds (sub-microsecond nanos are truncated); undefined stays undefined. */
export function timestampUs(field: string, ts: Timestamp | undefined): bigint | undefined {
  if (ts === undefined) return undefined;
  if (ts.nanos < 0 || ts.nanos > 999_999_999) throw new InvalidInputError(field, "nanos out of range");
  return timeUs(field, ts.seconds * 1_000_000n + BigInt(Math.trunc(ts.nanos / 1000)));
}

/** A finite double (NaN and ±Inf are refused). */
export function finite(field: string, v: number): number {
  if (!Number.isFinite(v)) throw new InvalidInputError(field, `must be a finite number, got ${v}`);
  return v;
}

/** Page size: default 100, 1–1000. */
export function pageSize(field: string, n: number): number {
  if (n === 0) return 100;
  if (n < 0 || n > 1000) throw new InvalidInputError(field, "must be between 1 and 1000");
  return n;
}

/** Encodes a page cursor as an opaque token. */
export function encodePageToken(cursor: object): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Decodes a page token, or undefined when empty. */
export function decodePageToken<T>(
  field: string,
  token: string,
  check: (v: unknown) => v is T,
): T | undefined {
  if (token === "") return undefined;
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (check(v)) return v;
  } catch {}
  throw new InvalidInputError(field, "is not a page token from this server");
}
