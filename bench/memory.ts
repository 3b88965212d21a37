import { uploadRun } from "./ingest.js";
import { type BenchEnv, isMain, mb, rate, sampleRss, startBenchEnv, timed } from "./lib/env.js";
import { readAll } from "./read.js";

/** Peak server RSS during a 10 M-point upload and a 10 M-point read. */
export interface MemoryFigures {
  points: number;
  idleRss: number;
  uploadPeakRss: number;
  uploadRate: number;
  readPeakRss: number;
  readRate: number;
}

/**
 * Memory: a fresh server process uploads 10 M points in one streamed run (5,000 series ×
 * 2,000 points) and then streams all of them back (LATEST); its RSS is sampled every 20 ms.
 */
export async function benchMemory(env: BenchEnv, series = 5000): Promise<MemoryFigures> {
  const shape = { series, points: 2000 };
  const n = shape.series * shape.points;
  await env.restartServer();
  const tenant = await env.newTenant(`bench-memory-${Date.now()}`);
  const idleRss = sampleRss(env.server.pid).stop().start;
  let sampler = sampleRss(env.server.pid);
  const up = await uploadRun(env.server.url, tenant.key, "mem", shape, 0);
  const upload = sampler.stop();
  await env.pool.query("VACUUM ANALYZE point_blocks");
  sampler = sampleRss(env.server.pid);
  let got = 0;
  const down = await timed(async () => {
    got = await readAll(env.server.url, tenant.key, undefined, false);
  });
  const read = sampler.stop();
  if (got !== n) throw new Error(`read returned ${got} points, expected ${n}`);
  return {
    points: n,
    idleRss,
    uploadPeakRss: upload.peak,
    uploadRate: n / up,
    readPeakRss: read.peak,
    readRate: n / down,
  };
}

export function printMemory(f: MemoryFigures): void {
  const ok = (v: number) => (v < 300 * 1024 * 1024 ? "OK (< 300 MB)" : "OVER 300 MB");
  console.log(`\n== memory: server RSS (separate process), ${f.points.toLocaleString("en")} points ==`);
  console.log(`  idle after start:            ${mb(f.idleRss)}`);
  console.log(
    `  peak during streamed upload: ${mb(f.uploadPeakRss)}  ${ok(f.uploadPeakRss)}  (${rate(f.uploadRate)})`,
  );
  console.log(
    `  peak during streamed read:   ${mb(f.readPeakRss)}  ${ok(f.readPeakRss)}  (${rate(f.readRate)})`,
  );
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    printMemory(await benchMemory(env));
  } finally {
    await env.stop();
  }
}
