import { z } from "zod";

/** Every setting of the server, read from the environment once and validated. */
export type Config = z.infer<typeof schema>;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  );

/** A duration in seconds (decimals allowed, so tests can use fractions of a second). */
const seconds = (dflt: number) => z.coerce.number().positive().max(86_400).default(dflt);
const count = (dflt: number) => z.coerce.number().int().min(1).max(100_000).default(dflt);

const schema = z
  .object({
    TDB_HOST: z.string().min(1).default("127.0.0.1"),
    TDB_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    TDB_DATABASE_URL: optionalString.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
        .optional(),
    ),
    TDB_DATA_DIR: z.string().min(1).default(".tdb"),
    TDB_EMBEDDED_PG_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    TDB_DEFAULT_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(60),
    TDB_STATIC_KEYS: optionalString,
    TDB_JWT_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
    TDB_JWT_JWKS_FILE: optionalString,
    TDB_TLS_CERT: optionalString,
    TDB_TLS_KEY: optionalString,
    TDB_CORS_ORIGINS: list,
    TDB_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    /** Largest single message a client may send (bytes). */
    TDB_MAX_MESSAGE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /**
     * Responses at least this large are gzip/br-compressed when the client accepts it;
     * 0 (the default) = never. Packed times and doubles shrink little, and compressing every
     * message more than halved the speed of a 2 M-point read (README, Performance); requests
     * sent compressed are always accepted.
     */
    TDB_COMPRESS_MIN_BYTES: z.coerce.number().int().min(0).default(0),
    /** Most points one upload (stream or batch) may carry. */
    TDB_MAX_UPLOAD_POINTS: z.coerce.number().int().min(1).default(50_000_000),

    // Admission control and fault isolation (README, Reliability). Counts are per process.
    /** Database connections of the process. */
    TDB_DB_POOL_SIZE: count(20),
    /** Of those, the most that streaming calls (Upload, ReadValues) may hold at once. */
    TDB_DB_STREAM_CONNECTIONS: count(10),
    /** How long a call waits for a database connection before it fails (`Unavailable`). */
    TDB_DB_ACQUIRE_TIMEOUT: seconds(5),
    /** Open streaming calls one key may have. */
    TDB_STREAMS_PER_KEY: count(4),
    /** Open streaming calls one tenant may have, all its keys together. */
    TDB_STREAMS_PER_TENANT: count(6),
    /** An upload that sends no message for this long is ended and rolled back. */
    TDB_STREAM_IDLE_TIMEOUT: seconds(30),
    /** A read whose client takes nothing for this long is ended and rolled back. */
    TDB_READ_STALL_TIMEOUT: seconds(30),
    /** How often a long stream re-checks that its key is still valid. */
    TDB_KEY_RECHECK_INTERVAL: seconds(30),
    /** Open unauthenticated streams (Health/Watch, reflection), all clients together. */
    TDB_MAX_PUBLIC_STREAMS: count(64),
    /** HTTP/2 streams one connection may have open at once. */
    TDB_H2_MAX_STREAMS: count(100),
    /** A connection with no request (HTTP/1.1) or no stream (HTTP/2) open for this long is closed. */
    TDB_IDLE_CONNECTION_TIMEOUT: seconds(60),
    /** On SIGTERM: how long to keep serving while reporting not ready, so load balancers notice. */
    TDB_DRAIN_DELAY: z.coerce.number().min(0).max(3600).default(5),
    /** On SIGTERM: how long open calls and streams may take to finish before they are cut. */
    TDB_SHUTDOWN_GRACE: seconds(30),
    /** When set, `/metrics` answers only `Authorization: Bearer <token>`. */
    TDB_METRICS_TOKEN: optionalString,
    /** When set (host:port), `/metrics` is served there instead of on the API port. */
    TDB_METRICS_LISTEN: optionalString.pipe(
      z
        .string()
        .regex(/^[^:]+:\d{1,5}$/, "must be host:port")
        .optional(),
    ),
  })
  .refine((c) => c.TDB_DB_STREAM_CONNECTIONS < c.TDB_DB_POOL_SIZE, {
    message: "must be smaller than TDB_DB_POOL_SIZE (unary calls need room of their own)",
    path: ["TDB_DB_STREAM_CONNECTIONS"],
  })
  .refine((c) => (c.TDB_TLS_CERT === undefined) === (c.TDB_TLS_KEY === undefined), {
    message: "TDB_TLS_CERT and TDB_TLS_KEY must be set together",
    path: ["TDB_TLS_CERT"],
  });

/** Thrown with one line per bad variable, so a start script shows exactly what to fix. */
export class ConfigError extends Error {}

/** Reads and validates the configuration from an environment (default: process.env). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `invalid ${String(i.path[0] ?? "config")}: ${i.message}`);
    throw new ConfigError(lines.join("\n"));
  }
  return parsed.data;
}
