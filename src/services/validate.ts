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

/** Most labels a series (or a label filter) may have. */
const maxLabels = 64;
/** Most bytes (UTF-8) of label keys and values together. */
const maxLabelBytes = 1500;

/**
 * Labels: at most 64, keys of [A-Za-z0-9_.-] (1–100), values up to 200 characters, keys and
 * values together at most 1,500 bytes of UTF-8. A series's tenant, name (≤ 200 characters,
 * ≤ 600 bytes) and labels are one entry of a unique btree index, which PostgreSQL caps at
 * 2,704 bytes: these bounds keep the largest accepted series inside it.
 */
export function validLabels(field: string, labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > maxLabels)
    throw new InvalidInputError(field, `at most ${maxLabels} labels, got ${entries.length}`);
  let bytes = 0;
  for (const [k, v] of entries) {
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
    bytes += k.length + Buffer.byteLength(v);
  }
  if (bytes > maxLabelBytes)
    throw new InvalidInputError(
      field,
      `label keys and values take at most ${maxLabelBytes} bytes (UTF-8) together, got ${bytes}`,
    );
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
  if (!isDecimalId(value)) throw new InvalidInputError(field, `is not a ${what} id`);
  return BigInt(value);
}

/** A positive int64 in canonical decimal, as series and run ids are. */
function isDecimalId(value: string): boolean {
  return /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= 9_223_372_036_854_775_807n;
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
export function encodePageToken(cursor: Record<string, string>): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Checks one field of a decoded page cursor. */
export type CursorField = (v: unknown) => v is string;

/**
 * Checks of the fields page cursors are made of. A token is opaque to clients but comes back
 * from them, so a forged one must fail here, not in a cast inside PostgreSQL.
 */
export const cursor = {
  /** At most `max` characters, nothing PostgreSQL cannot store (NUL, unpaired surrogates). */
  text:
    (max: number): CursorField =>
    (v): v is string =>
      typeof v === "string" && v.length <= max && !/[\0\uD800-\uDFFF]/u.test(v),
  /** A series or run id. */
  decimalId: ((v) => typeof v === "string" && isDecimalId(v)) as CursorField,
  /** Microseconds since the epoch in canonical decimal, inside the accepted time range. */
  timeUs: ((v) =>
    typeof v === "string" &&
    /^(0|-?[1-9][0-9]{0,18})$/.test(v) &&
    BigInt(v) >= minTimeUs &&
    BigInt(v) <= maxTimeUs) as CursorField,
};

// Far above any token this server hands out (a cursor of a 200-character name and an id).
const maxPageTokenLength = 4096;

/**
 * Decodes a page token, or undefined when empty. The cursor must have exactly the fields of
 * `shape`, each passing its check; anything else is InvalidArgument on `field`.
 */
export function decodePageToken<K extends string>(
  field: string,
  token: string,
  shape: Record<K, CursorField>,
): Record<K, string> | undefined {
  if (token === "") return undefined;
  if (token.length <= maxPageTokenLength) {
    try {
      const v: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
      if (fitsShape(v, shape)) return v;
    } catch {}
  }
  throw new InvalidInputError(field, "is not a page token from this server");
}

function fitsShape<K extends string>(v: unknown, shape: Record<K, CursorField>): v is Record<K, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const fields = Object.keys(shape) as K[];
  const got = v as Record<string, unknown>;
  return (
    Object.keys(got).length === fields.length &&
    fields.every((k) => Object.hasOwn(got, k) && shape[k](got[k]))
  );
}
