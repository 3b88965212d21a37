import type pg from "pg";

/**
 * Which PostgreSQL failures mean "the database went away" rather than "this query is wrong".
 * Those are retryable: the call that met one fails `Unavailable`, its transaction is gone
 * (PostgreSQL rolls back a transaction whose connection ends), and the connection is
 * discarded. Everything else keeps its meaning.
 */

/** SQLSTATEs of a lost or refused connection. */
const lostStates = new Set([
  "57P01", // admin_shutdown: pg_terminate_backend, a fast or immediate stop
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or shutting down
  "57P05", // idle_session_timeout
  "25P03", // idle_in_transaction_session_timeout
  "53300", // too_many_connections
]);

/** Node socket errors of a connection that cannot be made or was cut. */
const socketCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** Messages node-postgres and pg-pool use for the same (they carry no code). */
const lostMessages = [
  "Connection terminated",
  "connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
  "terminating connection",
  "Cannot use a pool after calling end",
];

/** True when `err` says the database connection was lost, refused or could not be had. */
export function isConnectionLost(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (lostStates.has(code) || code.startsWith("08") || socketCodes.has(code)) return true;
  }
  if (err instanceof AggregateError && err.errors.some(isConnectionLost)) return true;
  return lostMessages.some((m) => err.message.includes(m));
}

/** The domain error for a lost database: the error interceptor answers `Unavailable`. */
export class DatabaseUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super("the database is unavailable: the call was rolled back and wrote nothing; retry shortly");
  }
}

/**
 * `pool.query` for a read-only statement outside a transaction, taking another connection
 * when the pooled one turns out to be dead (PostgreSQL ended it and the pool has not heard
 * yet): running a SELECT twice is harmless, failing the first caller after a restart is not.
 */
export async function readQuery<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await pool.query<R>(text, values);
    } catch (err) {
      if (!isConnectionLost(err) || attempt >= (pool.options.max ?? 10)) throw err;
    }
  }
}
