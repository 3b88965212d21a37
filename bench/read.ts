import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { TimeSeriesService } from "../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode } from "../gen/tdb/v1/types_pb.js";
import { Mode, planSettings, readSql } from "../src/store/read-values.js";
import { benchIngest } from "./ingest.js";
import { standard } from "./lib/data.js";
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

/** Result of the read benchmark (points per second). */
export interface ReadFigures {
  points: number;
  /** ReadValues with values_only: series, valid time, value (what the baseline returns). */
  tdb: number;
  /** ReadValues with every point's known time, run id and change time too (the default). */
  tdbFull: number;
  plain?: number;
  /** TDB's read SQL alone through psql (as tdb_app under RLS, COPY binary to /dev/null): blocks before the merge. */
  sql?: number;
}

/** Streams a LATEST read of every series of the key's tenant; returns points received. */
export async function readAll(
  url: string,
  key: string,
  onMessage?: () => Promise<void>,
  valuesOnly = true,
): Promise<number> {
  const client = grpcClient(TimeSeriesService, url, key);
  let n = 0;
  for await (const res of client.readValues({ mode: ReadMode.LATEST, valuesOnly })) {
    for (const c of res.chunks) n += c.validTimes.length;
    if (onMessage) await onMessage();
  }
  return n;
}

/**
 * Read: LATEST over the 2 M points of one run streamed to a Node client (gRPC over h2c)
 * vs psql's binary `\copy (SELECT … ORDER BY series, time) TO '/dev/null'` on the plain
 * table. Expects benchIngest to have loaded both.
 */
export async function benchRead(
  env: BenchEnv,
  tenant: { tenantId: string; key: string },
): Promise<ReadFigures> {
  const key = tenant.key;
  const n = standard.series * standard.points;
  const figures: ReadFigures = { points: n, tdb: 0, tdbFull: 0 };
  const bin = findPsql();
  const plain = await env.pool.query("SELECT to_regclass('bench_plain') IS NOT NULL AS ok");
  if (bin && plain.rows[0]?.ok) {
    await env.pool.query("VACUUM ANALYZE bench_plain");
    const copy = `\\copy (SELECT series_id, valid_time, value FROM bench_plain ORDER BY series_id, valid_time) TO '/dev/null' (FORMAT binary)`;
    await psql(bin, env.databaseUrl, copy); // warm the cache like TDB's read below
    figures.plain = n / (await psql(bin, env.databaseUrl, copy));
  }
  await env.pool.query("VACUUM ANALYZE point_blocks");
  if (bin) {
    const dir = await mkdtemp(path.join(tmpdir(), "tdb-bench-read-"));
    try {
      const script = path.join(dir, "read.sql");
      const sql = readSql({ mode: Mode.Latest, seriesIds: [], name: "", labels: {} }).replace(/\s+/g, " ");
      await writeFile(
        script,
        `BEGIN;
SET LOCAL ROLE tdb_app;
SELECT set_config('tdb.tenant_id', '${tenant.tenantId}', true);
${planSettings};
\\copy (${sql}) TO '/dev/null' (FORMAT binary)
ROLLBACK;
`,
      );
      await psqlFile(bin, env.databaseUrl, script);
      figures.sql = n / (await psqlFile(bin, env.databaseUrl, script));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await readAll(env.server.url, key); // warm-up
  for (const valuesOnly of [true, false]) {
    let got = 0;
    const seconds = await timed(async () => {
      got = await readAll(env.server.url, key, undefined, valuesOnly);
    });
    if (got !== n) throw new Error(`read returned ${got} points, expected ${n}`);
    if (valuesOnly) figures.tdb = n / seconds;
    else figures.tdbFull = n / seconds;
  }
  return figures;
}

/**
 * LATEST over the same 2 M values after the growth benchmark stored ten runs of each: the
 * server merges ten overlapping versions per value. Returns points per second.
 */
export async function benchReadMerged(env: BenchEnv, key: string): Promise<number> {
  const n = standard.series * standard.points;
  await env.pool.query("VACUUM ANALYZE point_blocks");
  await readAll(env.server.url, key); // warm-up
  let got = 0;
  const seconds = await timed(async () => {
    got = await readAll(env.server.url, key);
  });
  if (got !== n) throw new Error(`read returned ${got} points, expected ${n}`);
  return n / seconds;
}

export function printReadMerged(rate10: number, f: ReadFigures): void {
  console.log("\n== read after growth: LATEST over the same 2,000,000 values, ten runs of each ==");
  console.log(
    `  TDB ReadValues values_only: ${rate(rate10)}   (${(rate10 / f.tdb).toFixed(2)} of the one-run read${f.plain ? `, ${(rate10 / f.plain).toFixed(2)} of the psql baseline` : ""})`,
  );
}

export function printRead(f: ReadFigures): void {
  console.log(`\n== read: LATEST over ${f.points.toLocaleString("en")} points ==`);
  if (f.plain === undefined) console.log("  psql not found (set TDB_PSQL): baseline skipped");
  else console.log(`  baseline psql \\copy (SELECT … ORDER BY series, time) TO /dev/null: ${rate(f.plain)}`);
  if (f.sql !== undefined)
    console.log(`  psql: TDB's read SQL alone (blocks, under RLS) \\copy TO /dev/null: ${rate(f.sql)}`);
  console.log(`  TDB ReadValues values_only (gRPC server stream, h2c, Node client): ${rate(f.tdb)}`);
  console.log(`  TDB ReadValues with known_times, run_ids, change_times per point:  ${rate(f.tdbFull)}`);
  if (f.plain !== undefined) {
    console.log(
      `  ratio TDB / psql: ${(f.tdb / f.plain).toFixed(2)}   (target >= 0.8; same columns as the baseline)`,
    );
    console.log(`  ratio TDB with provenance / psql: ${(f.tdbFull / f.plain).toFixed(2)}`);
  }
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    const tenant = await env.newTenant("bench-read");
    await benchIngest(env, tenant, "read");
    printRead(await benchRead(env, tenant));
  } finally {
    await env.stop();
  }
}
