import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode } from "../../gen/tdb/v1/types_pb.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startServer, type TdbServer } from "../../src/server/server.js";
import { migrate } from "../../src/store/migrate.js";
import { createTenant } from "../../src/store/tenants.js";
import { clientFor } from "../helpers/clients.js";
import { readAll } from "../helpers/points.js";
import { createScratchDatabase } from "../helpers/scratch-database.js";

/**
 * Migration 0005 moves the rows of `points` (one per version) into `point_blocks`. A
 * database at version 0004 with 10,000 uploaded points (nulls and annotations among them)
 * and a correction is migrated; the server then reads back the same values and versions.
 */
let db: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
let server: TdbServer;
let key: string;
let seriesId: string;
const n = 10_000;
const t0 = 1_735_689_600_000_000n; // 2025-01-01
const minute = 60_000_000n;
const value = (i: number) => (i % 1000 === 7 ? null : i * 0.5);

beforeAll(async () => {
  db = await createScratchDatabase(inject("adminDatabaseUrl"), "tdb_test");
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => {});
  await migrate(pool, 4);
  const tenant = await createTenant(pool, `tenant-${randomUUID()}`);
  key = tenant.rawKey;
  const tid = tenant.tenant.id;
  const s = await pool.query<{ id: string }>(
    "INSERT INTO series (tenant_id, name, kind) VALUES ($1, 'old', 2) RETURNING id::text",
    [tid],
  );
  seriesId = s.rows[0]?.id ?? "";
  const r = await pool.query<{ id: string }>(
    "INSERT INTO runs (tenant_id, known_time, created_by, point_count) VALUES ($1, '2024-12-31Z', 'loader', $2) RETURNING id::text",
    [tid, n],
  );
  await pool.query(
    `INSERT INTO points (tenant_id, series_id, valid_time, known_time, change_time, run_id, value, annotation)
     SELECT $1, $2, tdb_us_to_ts($3::int8 + i * $4::int8), '2024-12-31Z', '2025-01-02Z', $5,
            CASE WHEN i % 1000 = 7 THEN NULL ELSE i * 0.5 END,
            CASE WHEN i % 2500 = 0 THEN 'note ' || i END
       FROM generate_series(0, $6 - 1) AS i`,
    [tid, seriesId, t0.toString(), minute.toString(), r.rows[0]?.id, n],
  );
  await pool.query(
    `INSERT INTO points (tenant_id, series_id, valid_time, known_time, change_time, run_id, value, changed_by)
     VALUES ($1, $2, tdb_us_to_ts($3::int8), '2024-12-31Z', '2025-01-03Z', $4, 99, 'fixer')`,
    [tid, seriesId, (t0 + 5n * minute).toString(), r.rows[0]?.id],
  );
  expect(await migrate(pool)).toEqual([5]);
  const config = loadConfig({
    TDB_PORT: "0",
    TDB_DATABASE_URL: db.url,
    TDB_LOG_LEVEL: "silent",
    TDB_DRAIN_DELAY: "0",
  });
  server = await startServer(config, pool, createLogger("silent"));
}, 120_000);
afterAll(async () => {
  await server?.close();
  await pool?.end();
  await db?.drop();
});

describe("migration 0005 (points into blocks)", () => {
  it("packs uploads into blocks of at most 8,192 points and each correction into its own", async () => {
    const { rows } = await pool.query<{ n: number; changed_by: string | null }>(
      "SELECT n, changed_by FROM point_blocks ORDER BY first_time, n DESC",
    );
    expect(rows).toEqual([
      { n: 8192, changed_by: null },
      { n: 1, changed_by: "fixer" },
      { n: n - 8192, changed_by: null },
    ]);
    const old = await pool.query("SELECT to_regclass('points') AS t");
    expect(old.rows[0]?.t).toBeNull();
  });

  it("reads back every value, null and annotation, with the correction on top", async () => {
    const client = clientFor(TimeSeriesService, `http://127.0.0.1:${server.listener.port}`, key, "grpc");
    const rows = await readAll(client, { seriesIds: [seriesId], mode: ReadMode.LATEST });
    expect(rows).toHaveLength(n);
    rows.forEach((r, i) => {
      expect(r.valid).toBe(t0 + BigInt(i) * minute);
      expect(r.value).toBe(i === 5 ? 99 : value(i));
      expect(r.annotation).toBe(i % 2500 === 0 ? `note ${i}` : undefined);
    });
    const history = await readAll(client, { seriesIds: [seriesId], mode: ReadMode.CORRECTIONS });
    expect(history).toHaveLength(n + 1);
    expect(history.filter((r) => r.valid === t0 + 5n * minute).map((r) => [r.value, r.changedBy])).toEqual([
      [2.5, "loader"],
      [99, "fixer"],
    ]);
  });
});
