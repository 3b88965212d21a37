import type { TenantClient } from "./tenant-tx.js";

/** A run as listed. Times are epoch microseconds as decimal strings. */
export interface RunRow {
  id: string;
  knownTimeUs: string;
  workflowId: string;
  params: Record<string, unknown>;
  startedAtUs: string | null;
  finishedAtUs: string | null;
  createdAtUs: string;
  pointCount: string;
}

/** A page of runs, newest known_time first; `after` is the last (known_time, id) seen. */
export async function listRuns(
  c: TenantClient,
  f: {
    workflowId: string;
    startKnownUs?: bigint;
    endKnownUs?: bigint;
    limit: number;
    after?: { knownTimeUs: string; id: string };
  },
): Promise<RunRow[]> {
  const { rows } = await c.query<RunRow>(
    `SELECT id::text, tdb_ts_to_us(known_time)::text AS "knownTimeUs", workflow_id AS "workflowId", params,
            tdb_ts_to_us(started_at)::text AS "startedAtUs", tdb_ts_to_us(finished_at)::text AS "finishedAtUs",
            tdb_ts_to_us(created_at)::text AS "createdAtUs", point_count::text AS "pointCount"
       FROM runs
      WHERE ($1 = '' OR workflow_id = $1)
        AND ($2::int8 IS NULL OR known_time >= tdb_us_to_ts($2::int8))
        AND ($3::int8 IS NULL OR known_time < tdb_us_to_ts($3::int8))
        AND ($4::int8 IS NULL OR (known_time, id) < (tdb_us_to_ts($4::int8), $5::int8))
      ORDER BY known_time DESC, id DESC
      LIMIT $6`,
    [
      f.workflowId,
      f.startKnownUs?.toString() ?? null,
      f.endKnownUs?.toString() ?? null,
      f.after?.knownTimeUs ?? null,
      f.after?.id ?? null,
      f.limit,
    ],
  );
  return rows;
}
