import type { CopyWriter } from "./copy-binary.js";
import type { PointColumns } from "./point-chunk.js";

/** Points per block at most (see migration 0005): bounds what a read holds per block. */
export const maxBlockPoints = 8192;

/** The columns of the staging table, in order (see Ingest.begin). */
export const stagingColumns = 11;

/**
 * Encodes points `order[from..to)` (or `from..to` without an order) of `p` as one staging
 * row in binary COPY form: ref, first_time, last_time, n, then the block columns of
 * migration 0005. The time and value arrays go through typed arrays and one native byte
 * swap each (`swap64`), so a block of thousands of points costs two small loops and no
 * per-point object. Returns the first and last valid time written.
 */
export function encodeBlock(
  w: CopyWriter,
  ref: number,
  p: PointColumns,
  order: readonly number[] | undefined,
  from: number,
  to: number,
): { first: bigint; last: bigint } {
  const n = to - from;
  const times = new BigInt64Array(n);
  const values = new Float64Array(n);
  const at = (k: number) => (order ? (order[from + k] as number) : from + k);
  const nulls = p.nulls;
  let anyNull = false;
  for (let k = 0; k < n; k++) {
    const i = at(k);
    times[k] = p.validTimes[i] as bigint;
    if (nulls?.[i]) anyNull = true;
    else values[k] = p.values[i] as number;
  }
  const first = times[0] as bigint;
  const last = times[n - 1] as bigint;
  w.fieldCount(stagingColumns);
  w.int4(ref);
  w.timestampUs(first);
  w.timestampUs(last);
  w.int4(n);
  w.bytea(bigEndian(times));
  w.bytea(bigEndian(values));
  if (anyNull) {
    const bytes = new Uint8Array(n);
    for (let k = 0; k < n; k++) bytes[k] = nulls?.[at(k)] ? 1 : 0;
    w.bytea(bytes);
  } else w.null();
  const ends = p.validTimeEnds;
  if (ends && someIn(n, (k) => ends[at(k)] !== 0n)) {
    const e = new BigInt64Array(n);
    for (let k = 0; k < n; k++) e[k] = ends[at(k)] as bigint;
    w.bytea(bigEndian(e));
  } else w.null();
  const ann = p.annotations;
  if (ann && someIn(n, (k) => ann[at(k)] !== "")) {
    w.textArray(Array.from({ length: n }, (_, k) => ann[at(k)] as string));
  } else w.null();
  const tags = p.tags;
  if (tags && someIn(n, (k) => (tags[at(k)]?.length ?? 0) > 0)) {
    w.jsonb(JSON.stringify(Array.from({ length: n }, (_, k) => tags[at(k)] ?? [])));
  } else w.null();
  const meta = p.metadata;
  if (meta && someIn(n, (k) => meta[at(k)] !== "")) {
    w.jsonb(`[${Array.from({ length: n }, (_, k) => meta[at(k)] || "null").join(",")}]`);
  } else w.null();
  return { first, last };
}

/** The bytes of a typed array of 8-byte numbers in big-endian order (PostgreSQL's send form). */
export function bigEndian(a: BigInt64Array | Float64Array): Buffer {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return b.swap64();
}

function someIn(n: number, test: (k: number) => boolean): boolean {
  for (let k = 0; k < n; k++) if (test(k)) return true;
  return false;
}
