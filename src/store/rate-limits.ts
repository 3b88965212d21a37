import type { TenantClient } from "./tenant-tx.js";

/** A key's standing in the current window, as counted by the database. */
export interface WindowCount {
  /** Requests in the current window, this one included. */
  count: number;
  /** When the window ends (the next calendar minute), epoch seconds. */
  resetEpochSeconds: number;
  /** Whole seconds until then, at least 1. */
  retryAfterSeconds: number;
}

/**
 * Counts one request of `keyId` in the current fixed window — the calendar minute of the
 * database clock, so every server process agrees on the boundaries — and returns the new
 * count. One upsert on the key's counter row: PostgreSQL serialises concurrent upserts on
 * that row, so the count is exact across processes. A request whose transaction started
 * in a minute that another one has already closed counts in the newer window (GREATEST),
 * so a slow request cannot reset the counter backwards.
 *
 * The same statement keeps `api_keys.last_used_at` current without a write per request:
 * it is touched only when it is older than the start of the current minute, i.e. at
 * most once a minute per key.
 */
export async function countRequest(c: TenantClient, tenantId: string, keyId: string): Promise<WindowCount> {
  const { rows } = await c.query<WindowCount>(
    `WITH touch AS (
       UPDATE api_keys SET last_used_at = now()
        WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < date_trunc('minute', now()))
     )
     INSERT INTO rate_limit_counters AS r (tenant_id, key_id, window_start, request_count)
     VALUES ($1, $2, date_trunc('minute', now()), 1)
     ON CONFLICT (tenant_id, key_id) DO UPDATE
       SET request_count = CASE WHEN EXCLUDED.window_start > r.window_start THEN 1
                                ELSE r.request_count + 1 END,
           window_start = GREATEST(r.window_start, EXCLUDED.window_start)
     RETURNING request_count AS count,
       extract(epoch FROM window_start + interval '1 minute')::int8::float8 AS "resetEpochSeconds",
       GREATEST(1, ceil(extract(epoch FROM window_start + interval '1 minute' - clock_timestamp())))::float8
         AS "retryAfterSeconds"`,
    [tenantId, keyId],
  );
  return rows[0] as WindowCount;
}
