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
