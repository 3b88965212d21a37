import { randomUUID } from "node:crypto";
import type pg from "pg";
import { inject } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startServer, type TdbServer } from "../../src/server/server.js";
import { createPool } from "../../src/store/database.js";
import { migrate } from "../../src/store/migrate.js";
import { createTenant } from "../../src/store/tenants.js";
import { createScratchDatabase } from "./scratch-database.js";

/** A fresh, migrated database of its own for one test file, with the server's pool settings. */
export async function freshDatabase(): Promise<{ url: string; pool: pg.Pool; drop(): Promise<void> }> {
  const db = await createScratchDatabase(inject("adminDatabaseUrl"), "tdb_test");
  const pool = createPool(db.url, loadConfig({}));
  await migrate(pool);
  return {
    url: db.url,
    pool,
    async drop() {
      await pool.end();
      await db.drop();
    },
  };
}

/** A running in-process server on a random port over a fresh database, with one tenant. */
export interface TestServer {
  url: string;
  port: number;
  pool: pg.Pool;
  databaseUrl: string;
  /** Admin key of tenant A. */
  adminKey: string;
  tenantId: string;
  /** Creates another tenant; returns its id and admin key. */
  newTenant(name?: string): Promise<{ tenantId: string; adminKey: string }>;
  server: TdbServer;
  close(): Promise<void>;
}

/** Starts a server for a test file. Extra environment (e.g. TDB_CORS_ORIGINS) may be given. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const db = await freshDatabase();
  // Suites that are not about rate limits make many calls per minute with one key: lift the
  // default (60/min) unless the suite sets its own.
  const config = loadConfig({
    TDB_PORT: "0",
    TDB_DATABASE_URL: db.url,
    TDB_LOG_LEVEL: process.env.TDB_TEST_LOG_LEVEL ?? "silent",
    TDB_DEFAULT_RATE_LIMIT: "100000",
    TDB_DRAIN_DELAY: "0",
    ...env,
  });
  const server = await startServer(config, db.pool, createLogger(config.TDB_LOG_LEVEL));
  const a = await createTenant(db.pool, `tenant-${randomUUID()}`);
  const port = server.listener.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pool: db.pool,
    databaseUrl: db.url,
    adminKey: a.rawKey,
    tenantId: a.tenant.id,
    server,
    async newTenant(name = `tenant-${randomUUID()}`) {
      const t = await createTenant(db.pool, name);
      return { tenantId: t.tenant.id, adminKey: t.rawKey };
    },
    async close() {
      await server.close();
      await db.drop();
    },
  };
}
