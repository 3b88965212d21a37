import type pg from "pg";

/**
 * Waits until the database clock (which the rate limiter uses) is at least `margin`
 * seconds away from the end of the current minute, so a burst of requests that a test
 * counts cannot straddle a window boundary. Waits at most `margin` seconds.
 */
export async function awayFromMinuteEnd(pool: pg.Pool, margin = 15): Promise<void> {
  const { rows } = await pool.query<{ left: number }>(
    "SELECT (60 - extract(second FROM clock_timestamp()))::float8 AS left",
  );
  const left = rows[0]?.left ?? 60;
  if (left < margin) await new Promise((r) => setTimeout(r, (left + 0.5) * 1000));
}

/** The end of the current rate-limit window by the database clock, in epoch seconds. */
export async function windowEnd(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ reset: number }>(
    "SELECT extract(epoch FROM date_trunc('minute', now()) + interval '1 minute')::float8 AS reset",
  );
  return rows[0]?.reset ?? 0;
}

/**
 * Moves every stored window of `keyId` one minute into the past: exactly the state the
 * counter is in when the next calendar minute begins, without waiting for it.
 */
export async function closeWindow(pool: pg.Pool, keyId: string): Promise<void> {
  await pool.query(
    "UPDATE rate_limit_counters SET window_start = window_start - interval '1 minute' WHERE key_id = $1",
    [keyId],
  );
}
