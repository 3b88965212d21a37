import { NotFoundError } from "../errors.js";
import type { SeriesReference } from "./point-chunk.js";
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
  series_id: string;
  valid_time: string;
  known_time: string;
  run_id: string;
  value: number | null;
  valid_time_end: string | null;
  annotation: string | null;
  tags: string[] | null;
  metadata: string | null;
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
    const { rows } = await c.query<Current>(
      `SELECT series_id::text, valid_time::text, known_time::text, run_id::text, value, valid_time_end::text,
              annotation, tags, metadata::text
         FROM points
        WHERE series_id = $1 AND valid_time = tdb_us_to_ts($2::int8) AND ($3::int8 IS NULL OR run_id = $3::int8)
        ORDER BY known_time DESC, change_time DESC, run_id DESC
        LIMIT 1`,
      [seriesId, k.validTimeUs.toString(), k.runId?.toString() ?? null],
    );
    const cur = rows[0];
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
    await c.query(
      `INSERT INTO points (tenant_id, series_id, valid_time, known_time, change_time, run_id,
                           value, valid_time_end, annotation, tags, metadata, changed_by)
       VALUES ($1, $2, $3, $4, clock_timestamp(), $5, $6, $7, $8, $9, $10::jsonb, $11)`,
      [
        tenantId,
        cur.series_id,
        cur.valid_time,
        cur.known_time,
        cur.run_id,
        next.value,
        cur.valid_time_end,
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
