import { ConfigError, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServer } from "./server/server.js";
import { bootstrapDefaultTenant } from "./store/bootstrap.js";
import { checkPrivileges, openDatabase } from "./store/database.js";
import { migrate } from "./store/migrate.js";

/**
 * `npm start` / `tdb serve`: validates the configuration, opens (or starts the embedded)
 * PostgreSQL, applies migrations, creates the default tenant on an empty database, serves
 * until SIGTERM/SIGINT, then drains and stops.
 */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.TDB_LOG_LEVEL);
  const db = await openDatabase(config);
  // Nothing a database, client or stream does may end the process: whatever escapes the
  // handlers is logged (a bug to fix), never fatal.
  process.on("unhandledRejection", (err) => logger.error({ err: errText(err) }, "unhandled rejection"));
  process.on("uncaughtException", (err) => logger.error({ err: errText(err) }, "uncaught exception"));
  try {
    await checkPrivileges(db.pool);
    const applied = await migrate(db.pool);
    if (applied.length > 0) logger.info({ applied }, "migrations applied");
    const rawKey = await bootstrapDefaultTenant(db.pool);
    const server = await startServer(config, db.pool, logger);
    const scheme = server.listener.tls ? "https" : "http";
    const url = `${scheme}://${config.TDB_HOST}:${server.listener.port}`;
    const out: string[] = [`TDB listening on ${url} (Connect, gRPC, gRPC-Web; HTTP/1.1 and HTTP/2)`];
    out.push(`runtime: Node ${process.version}`);
    out.push(
      db.embedded ? `database: embedded PostgreSQL in ${config.TDB_DATA_DIR}/` : "database: TDB_DATABASE_URL",
    );
    if (rawKey) {
      out.push(`admin key: ${rawKey}`);
      out.push("  (shown once: save it now; only its hash is stored)");
    }
    out.push("try:");
    out.push(`  npx buf curl --list-services ${url}`);
    out.push(
      `  curl -H 'x-api-key: <key>' -H 'content-type: application/json' -d '{}' ${url}/tdb.v1.TimeSeriesService/ListSeries`,
    );
    process.stdout.write(`${out.join("\n")}\n`);

    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info(
          { signal, drainDelaySeconds: config.TDB_DRAIN_DELAY, graceSeconds: config.TDB_SHUTDOWN_GRACE },
          "shutting down: not ready now, stop accepting after the drain delay",
        );
        resolve();
      };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
    await server.close();
  } finally {
    await db.close();
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Exit once shut down (and output flushed): a handle a library leaves open must not keep a
  // stopped server's process alive.
  serve().then(
    () => process.stdout.write("", () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`tdb: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
