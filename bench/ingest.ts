import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { TimeSeriesService } from "../gen/tdb/v1/time_series_service_pb.js";
import {
  type Shape,
  standard,
  uploadStream,
  writeLayoutCopyFile,
  writePlainCopyFile,
  writeStagingCopyFile,
} from "./lib/data.js";
import {
  type BenchEnv,
  findPsql,
  grpcClient,
  isMain,
  psql,
  psqlFile,
  rate,
  startBenchEnv,
  timed,
} from "./lib/env.js";

/** Result of the ingest benchmark (points per second). */
export interface IngestFigures {
  points: number;
  tdb: number;
  plain?: number;
  layout?: number;
  /** TDB's SQL path alone: \copy blocks into a temp staging table, then INSERT … SELECT in index order. */
  staged?: number;
}

/** Uploads one run through the public API (client-streaming gRPC over h2c); returns seconds. */
export async function uploadRun(url: string, key: string, prefix: string, shape: Shape, run: number) {
  const client = grpcClient(TimeSeriesService, url, key);
  let stored = 0n;
  const seconds = await timed(async () => {
    const res = await client.upload(uploadStream(prefix, shape, run));
    stored = res.pointCount;
  });
  const expected = BigInt(shape.series * shape.points);
  if (stored !== expected) throw new Error(`upload stored ${stored} points, expected ${expected}`);
  return seconds;
}

/**
 * Ingest: 2 M points (1,000 series × 2,000 hourly points, one run) streamed by a Node
 * client vs psql's binary \copy of the same points into a plain (series_id, valid_time)
 * table and into a copy of TDB's own `points` layout.
 */
export async function benchIngest(env: BenchEnv, tenant: { tenantId: string; key: string }, prefix: string) {
  const shape = standard;
  const n = shape.series * shape.points;
  const figures: IngestFigures = { points: n, tdb: 0 };
  const bin = findPsql();
  if (bin) {
    const dir = await mkdtemp(path.join(tmpdir(), "tdb-bench-copy-"));
    try {
      const plainFile = path.join(dir, "plain.bin");
      const layoutFile = path.join(dir, "layout.bin");
      await writePlainCopyFile(plainFile, shape);
      await writeLayoutCopyFile(layoutFile, shape, tenant.tenantId);
      await env.pool.query(`DROP TABLE IF EXISTS bench_plain, bench_layout`);
      await env.pool.query(
        `CREATE TABLE bench_plain (series_id bigint, valid_time timestamptz, value float8,
                                   PRIMARY KEY (series_id, valid_time))`,
      );
      await env.pool.query(`CREATE TABLE bench_layout (LIKE point_blocks INCLUDING ALL)`);
      await env.pool.query("CHECKPOINT");
      const plain = await psql(
        bin,
        env.databaseUrl,
        `\\copy bench_plain FROM '${plainFile}' (FORMAT binary)`,
      );
      await env.pool.query("CHECKPOINT");
      const layout = await psql(
        bin,
        env.databaseUrl,
        `\\copy bench_layout FROM '${layoutFile}' (FORMAT binary)`,
      );
      figures.plain = n / plain;
      figures.layout = n / layout;
      await env.pool.query(`TRUNCATE bench_layout`);
      // What TDB's SQL does, without Node, the network or RLS: COPY blocks into a temp
      // staging table, then one INSERT … SELECT in index order, in one transaction.
      const stagingFile = path.join(dir, "staging.bin");
      await writeStagingCopyFile(stagingFile, shape);
      const script = path.join(dir, "staged.sql");
      await writeFile(
        script,
        `BEGIN;
CREATE TEMP TABLE tdb_staging (ref int4, first_time timestamptz, last_time timestamptz, n int4, valid_times bytea,
  values bytea, nulls bytea, valid_time_ends bytea, annotations text[], tags jsonb, metadata jsonb) ON COMMIT DROP;
\\copy tdb_staging FROM '${stagingFile}' (FORMAT binary)
INSERT INTO bench_layout (tenant_id, series_id, first_time, last_time, known_time, change_time, run_id, n,
                          valid_times, values, nulls, valid_time_ends, annotations, tags, metadata)
  SELECT '${tenant.tenantId}', ref + 1, first_time, last_time, now(), now(), 42, n,
         valid_times, values, nulls, valid_time_ends, annotations, tags, metadata
    FROM tdb_staging ORDER BY ref, first_time;
COMMIT;
`,
      );
      await env.pool.query("CHECKPOINT");
      figures.staged = n / (await psqlFile(bin, env.databaseUrl, script));
      await env.pool.query(`DROP TABLE bench_layout`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  // A fresh server process runs its first upload with cold JIT and caches (the first of ten
  // runs was up to 40 % slower): warm it with a small upload of another tenant first.
  const warm = await env.newTenant(`${prefix}-warm-up`);
  await uploadRun(env.server.url, warm.key, `${prefix}_warm`, { series: 100, points: shape.points }, 0);
  // Autovacuum would otherwise analyze the baseline's fresh 2 M rows during the timed
  // upload, on one of the two cores: do it now, and flush dirty pages.
  if (bin) await env.pool.query("VACUUM ANALYZE bench_plain");
  await env.pool.query("CHECKPOINT");
  figures.tdb = n / (await uploadRun(env.server.url, tenant.key, prefix, shape, 0));
  return figures;
}

/** Prints the ingest figures as a small table. */
export function printIngest(f: IngestFigures): void {
  console.log(`\n== ingest: ${f.points.toLocaleString("en")} points, one run ==`);
  if (f.plain === undefined) console.log("  psql not found (set TDB_PSQL): baselines skipped");
  else {
    console.log(`  baseline psql \\copy binary, plain table (series_id, valid_time) PK: ${rate(f.plain)}`);
    console.log(
      `  psql \\copy binary into TDB's point_blocks layout (2,000-point blocks): ${rate(f.layout ?? 0)}`,
    );
  }
  if (f.staged !== undefined)
    console.log(`  psql: TDB's SQL path (\\copy to temp staging + INSERT … SELECT):     ${rate(f.staged)}`);
  console.log(`  TDB Upload (connect-node gRPC client stream, h2c):                  ${rate(f.tdb)}`);
  if (f.plain !== undefined) {
    console.log(`  ratio TDB / plain \\copy:  ${(f.tdb / f.plain).toFixed(2)}   (goal >= 1.0)`);
    console.log(`  ratio TDB / layout \\copy: ${(f.tdb / (f.layout ?? 1)).toFixed(2)}`);
  }
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    const tenant = await env.newTenant("bench-ingest");
    printIngest(await benchIngest(env, tenant, "ingest"));
  } finally {
    await env.stop();
  }
}
