import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { TimeSeriesService } from "../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode } from "../gen/tdb/v1/types_pb.js";
import { uploadRun } from "./ingest.js";
import { hourUs, t0Us } from "./lib/data.js";
import { type BenchEnv, grpcClient, isMain, startBenchEnv } from "./lib/env.js";

/** Throughput and latency of one kind of unary call. */
export interface CallFigures {
  name: string;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const concurrency = 32;

/** Runs `call` from `concurrency` concurrent workers (one HTTP/2 connection) for `seconds`. */
export async function load(
  name: string,
  call: () => Promise<unknown>,
  seconds: number,
): Promise<CallFigures> {
  const latencies: number[] = [];
  let end = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await call();
      latencies.push(performance.now() - t);
    }
  };
  for (let i = 0; i < 200; i++) await call(); // warm-up
  const t0 = performance.now();
  end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, callsPerSecond: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/**
 * Small calls: authenticated GetSeries and ReadValues of 100 points vs the unauthenticated
 * grpc.health.v1.Health/Check on the same server, 32 concurrent streams, closed loop.
 */
export async function benchSmallCalls(env: BenchEnv, key: string, seconds = 5): Promise<CallFigures[]> {
  const ts = grpcClient(TimeSeriesService, env.server.url, key);
  const health = grpcClient(Health, env.server.url, key);
  const { series } = await ts.listSeries({ pageSize: 1 });
  const seriesId = series[0]?.seriesId;
  if (!seriesId) throw new Error("no series to read: run the ingest benchmark first");
  const read100 = async () => {
    let n = 0;
    for await (const res of ts.readValues({
      seriesIds: [seriesId],
      mode: ReadMode.LATEST,
      startValid: timestampFromMs(Number(t0Us / 1000n)),
      endValid: timestampFromMs(Number((t0Us + 100n * hourUs) / 1000n)),
    }))
      for (const c of res.chunks) n += c.validTimes.length;
    if (n !== 100) throw new Error(`ReadValues returned ${n} points, expected 100`);
  };
  return [
    await load("grpc.health.v1.Health/Check (no auth)", () => health.check({}), seconds),
    await load("GetSeries", () => ts.getSeries({ seriesId }), seconds),
    await load("ReadValues, 100 points", read100, seconds),
  ];
}

export function printSmallCalls(f: CallFigures[]): void {
  console.log(`\n== small calls: ${concurrency} concurrent streams on one HTTP/2 connection ==`);
  const base = f[0]?.callsPerSecond ?? 1;
  for (const c of f) {
    console.log(
      `  ${c.name.padEnd(40)} ${c.callsPerSecond.toFixed(0).padStart(6)} calls/s  p50 ${c.p50Ms.toFixed(1)} ms  p99 ${c.p99Ms.toFixed(1)} ms  (${(c.callsPerSecond / base).toFixed(2)} of Health/Check)`,
    );
  }
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    const tenant = await env.newTenant("bench-small");
    await uploadRun(env.server.url, tenant.key, "small", { series: 10, points: 2000 }, 0);
    printSmallCalls(await benchSmallCalls(env, tenant.key));
  } finally {
    await env.stop();
  }
}
