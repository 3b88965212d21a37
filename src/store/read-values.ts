import type { TenantClient } from "./tenant-tx.js";

/** The bitemporal views (numbers of the ReadMode enum). */
export enum Mode {
  Latest = 1,
  AsOf = 2,
  AllVintages = 3,
  Corrections = 4,
}

/** Filters of a read. Times are microseconds since the Unix epoch; undefined = unbounded. */
export interface ReadFilter {
  mode: Mode;
  seriesIds: bigint[];
  name: string;
  labels: Record<string, string>;
  startValidUs?: bigint;
  endValidUs?: bigint;
  startKnownUs?: bigint;
  endKnownUs?: bigint;
  asOfUs?: bigint;
}

/** One row of a read, in the column order of the SELECT below (pg array row mode). */
export type ReadRow = [
  seriesId: string,
  validTimeUs: string,
  value: number | null,
  validTimeEndUs: string | null,
  annotation: string | null,
  tags: string[] | null,
  metadata: string | null,
  knownTimeUs: string,
  runId: string,
  changeTimeUs: string,
  changedBy: string | null,
];

const columns = `p.series_id::text, tdb_ts_to_us(p.valid_time)::text, p.value, tdb_ts_to_us(p.valid_time_end)::text,
  p.annotation, p.tags, p.metadata::text, tdb_ts_to_us(p.known_time)::text, p.run_id::text,
  tdb_ts_to_us(p.change_time)::text`;

/**
 * AS_OF judges an uploaded version by its run's known_time alone (a backfilled run is known
 * from its known_time on, whenever it was written) and a correction (changed_by set) also by
 * its change_time.
 *
 * Builds the SQL for a read. Every mode walks the index `points_key`
 * (tenant, series, valid_time, known_time DESC, change_time DESC, run_id DESC):
 * LATEST/AS_OF keep the first row per (series, valid_time) — an index scan plus Unique.
 */
export function readQuery(f: ReadFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [
    f.seriesIds.map(String),
    f.name,
    JSON.stringify(f.labels),
    f.startValidUs?.toString() ?? null,
    f.endValidUs?.toString() ?? null,
    f.startKnownUs?.toString() ?? null,
    f.endKnownUs?.toString() ?? null,
    f.asOfUs?.toString() ?? null,
  ];
  const where = `
    FROM points p JOIN sel ON sel.id = p.series_id
   WHERE ($4::int8 IS NULL OR p.valid_time >= tdb_us_to_ts($4::int8))
     AND ($5::int8 IS NULL OR p.valid_time < tdb_us_to_ts($5::int8))
     AND ($6::int8 IS NULL OR p.known_time >= tdb_us_to_ts($6::int8))
     AND ($7::int8 IS NULL OR p.known_time < tdb_us_to_ts($7::int8))
     AND ($8::int8 IS NULL OR (p.known_time <= tdb_us_to_ts($8::int8)
                               AND (p.changed_by IS NULL OR p.change_time <= tdb_us_to_ts($8::int8))))`;
  const sel = `WITH sel AS MATERIALIZED (
      SELECT id, kind FROM series
       WHERE (cardinality($1::int8[]) = 0 OR id = ANY($1::int8[]))
         AND ($2 = '' OR name = $2) AND labels @> $3::jsonb)`;
  let text: string;
  switch (f.mode) {
    case Mode.Corrections:
      text = `${sel}
        SELECT ${columns}, COALESCE(p.changed_by, r.created_by)
        ${where.replace("FROM points p JOIN sel ON sel.id = p.series_id", "FROM points p JOIN sel ON sel.id = p.series_id LEFT JOIN runs r ON r.id = p.run_id")}
        ORDER BY p.series_id, p.valid_time, p.known_time, p.change_time, p.run_id`;
      break;
    case Mode.AllVintages:
      // FORECAST: one row per run (its newest correction). ACTUAL: only the current value,
      // because a later upload supersedes an earlier one (kept in CORRECTIONS).
      text = `${sel}
        SELECT DISTINCT ON (p.series_id, p.valid_time,
                            CASE WHEN sel.kind = 2 THEN p.known_time END,
                            CASE WHEN sel.kind = 2 THEN p.run_id END)
               ${columns}, NULL::text
        ${where}
        ORDER BY p.series_id, p.valid_time,
                 CASE WHEN sel.kind = 2 THEN p.known_time END,
                 CASE WHEN sel.kind = 2 THEN p.run_id END,
                 p.known_time DESC, p.change_time DESC, p.run_id DESC`;
      break;
    default:
      text = `${sel}
        SELECT DISTINCT ON (p.series_id, p.valid_time) ${columns}, NULL::text
        ${where}
        ORDER BY p.series_id, p.valid_time, p.known_time DESC, p.change_time DESC, p.run_id DESC`;
  }
  return { text, values };
}

/**
 * Streams the rows of a read in batches through a server-side cursor, so memory stays
 * bounded however large the result and the next batch is fetched only when the consumer
 * (the client's stream) asks for it.
 */
export async function* readRows(c: TenantClient, f: ReadFilter, batch: number): AsyncGenerator<ReadRow[]> {
  const q = readQuery(f);
  await c.query(`DECLARE tdb_read NO SCROLL CURSOR FOR ${q.text}`, q.values);
  for (;;) {
    const { rows } = await c.query<ReadRow>({
      text: `FETCH ${Math.trunc(batch)} FROM tdb_read`,
      rowMode: "array",
    });
    if (rows.length === 0) break;
    yield rows;
    if (rows.length < batch) break;
  }
  await c.query("CLOSE tdb_read");
}
