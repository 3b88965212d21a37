import { NotFoundError } from "../errors.js";
import type { SeriesReference } from "./point-chunk.js";
import { Mode, type ReadFilter, readBatches } from "./read-values.js";
import type { TenantClient } from "./tenant-tx.js";

/** A field of a correction: keep (undefined), set to a value, or clear (null). */
export type Change<T> = undefined | null | { set: T };

/** One correction, addressed by series, valid time and optionally run. */
export interface Correction {
  path: string;
  ref: SeriesReference;
  validTimeUs: bigint;
  runId: bigint | undefined;
  value: Change<number>;
  annotation: Change<string>;
  tags: Change<string[]>;
  /** JSON text. */
  metadata: Change<string>;
}

interface Current {
  knownUs: bigint;
  runId: string;
  value: number | null;
  validTimeEndUs: bigint | null;
  annotation: string | null;
  tags: string[] | null;
  metadata: string | null;
}

/**
 * The version a correction addresses: what LATEST returns at this valid time (within one
 * run when given), read through the same merge as ReadValues.
 */
async function current(c: TenantClient, seriesId: string, k: Correction): Promise<Current | undefined> {
  const filter: ReadFilter = {
    mode: Mode.Latest,
    seriesIds: [BigInt(seriesId)],
    name: "",
    labels: {},
    startValidUs: k.validTimeUs,
    endValidUs: k.validTimeUs + 1n,
    runId: k.runId,
  };
  // Read to the end (at most one point): leaving a read early closes the connection.
  let found: Current | undefined;
  for await (const b of readBatches(c, filter, 10)) {
    if (b.length === 0 || found) continue;
    const end = b.validTimeEnds?.[0] ?? 0n;
    found = {
      knownUs: b.knownTimes[0] as bigint,
      runId: b.runIds[0] as string,
      value: b.nulls?.[0] ? null : (b.values[0] as number),
      validTimeEndUs: end === 0n ? null : end,
      annotation: b.annotations?.[0] || null,
      tags: (b.tags?.[0]?.length ?? 0) > 0 ? (b.tags?.[0] as string[]) : null,
      metadata: b.metadata?.[0] || null,
    };
  }
  return found;
}

/**
 * Applies corrections as new versions (the old ones stay). Each addresses the newest
 * version of the value that LATEST would return, or of the given run. Corrections that
 * change nothing are skipped and counted. change_time is the statement clock, so several
 * corrections of one value in one request stay ordered.
 */
export async function applyCorrections(
  c: TenantClient,
  tenantId: string,
  corrections: Correction[],
  changedBy: string,
): Promise<{ updated: number; skipped: number }> {
  let updated = 0;
  let skipped = 0;
  for (const k of corrections) {
    const seriesId = await resolveSeries(c, k);
    const cur = await current(c, seriesId, k);
    if (!cur)
      throw new NotFoundError(
        `${k.path}: no stored value at this valid time${k.runId ? " in this run" : ""}`,
      );
    const next = {
      value: apply(k.value, cur.value),
      annotation: apply(k.annotation, cur.annotation),
      tags: apply(k.tags, cur.tags),
      metadata: k.metadata === undefined ? cur.metadata : k.metadata === null ? null : k.metadata.set,
    };
    const same =
      next.value === cur.value &&
      next.annotation === cur.annotation &&
      JSON.stringify(next.tags) === JSON.stringify(cur.tags) &&
      (k.metadata === undefined || (await sameJson(c, next.metadata, cur.metadata)));
    if (same) {
      skipped++;
      continue;
    }
    // A correction is a block of one point (migration 0005), with its author.
    await c.query(
      `INSERT INTO point_blocks (tenant_id, series_id, first_time, last_time, known_time, change_time, run_id, n,
                                 valid_times, values, nulls, valid_time_ends, annotations, tags, metadata, changed_by)
       VALUES ($1, $2, tdb_us_to_ts($3::int8), tdb_us_to_ts($3::int8), tdb_us_to_ts($4::int8), clock_timestamp(), $5, 1,
               int8send($3::int8), COALESCE(float8send($6::float8), '\\x0000000000000000'::bytea),
               CASE WHEN $6::float8 IS NULL THEN '\\x01'::bytea END,
               CASE WHEN $7::int8 IS NOT NULL THEN int8send($7::int8) END,
               CASE WHEN $8::text IS NOT NULL THEN ARRAY[$8::text] END,
               CASE WHEN $9::text[] IS NOT NULL THEN jsonb_build_array(to_jsonb($9::text[])) END,
               CASE WHEN $10::jsonb IS NOT NULL THEN jsonb_build_array($10::jsonb) END,
               $11)`,
      [
        tenantId,
        seriesId,
        k.validTimeUs.toString(),
        cur.knownUs.toString(),
        cur.runId,
        next.value,
        cur.validTimeEndUs?.toString() ?? null,
        next.annotation,
        next.tags,
        next.metadata,
        changedBy,
      ],
    );
    updated++;
  }
  return { updated, skipped };
}

function apply<T>(change: Change<T>, current: T | null): T | null {
  if (change === undefined) return current;
  if (change === null) return null;
  return change.set;
}

async function sameJson(c: TenantClient, a: string | null, b: string | null): Promise<boolean> {
  if (a === null || b === null) return a === b;
  const { rows } = await c.query<{ same: boolean }>("SELECT $1::jsonb = $2::jsonb AS same", [a, b]);
  return rows[0]?.same ?? false;
}

async function resolveSeries(c: TenantClient, k: Correction): Promise<string> {
  const { rows } =
    k.ref.kind === "id"
      ? await c.query<{ id: string }>("SELECT id::text FROM series WHERE id = $1", [
          k.ref.seriesId.toString(),
        ])
      : await c.query<{ id: string }>("SELECT id::text FROM series WHERE name = $1 AND labels = $2::jsonb", [
          k.ref.name,
          JSON.stringify(k.ref.labels),
        ]);
  const id = rows[0]?.id;
  if (!id) throw new NotFoundError(`${k.path}.series: series not found`);
  return id;
}
