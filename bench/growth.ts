import { uploadRun } from "./ingest.js";
import { standard } from "./lib/data.js";
import { type BenchEnv, isMain, rate, startBenchEnv } from "./lib/env.js";

/** Result of the growth benchmark: points per second of each run. */
export interface GrowthFigures {
  rates: number[];
}

/**
 * Growth: ten 2 M-point runs of the same series in a row (new known_time each), so each
 * run's index entries land between the earlier runs' ones. `firstRate` is the rate of run
 * 0 when the ingest benchmark already did it.
 */
export async function benchGrowth(
  env: BenchEnv,
  key: string,
  prefix: string,
  firstRate?: number,
  runs = 10,
): Promise<GrowthFigures> {
  const n = standard.series * standard.points;
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    if (r === 0 && firstRate !== undefined) {
      rates.push(firstRate);
      continue;
    }
    rates.push(n / (await uploadRun(env.server.url, key, prefix, standard, r)));
    process.stdout.write(`  run ${r + 1}: ${rate(rates[r] as number)}\n`);
  }
  return { rates };
}

export function printGrowth(f: GrowthFigures): void {
  const first = f.rates[0] ?? 0;
  const last = f.rates[f.rates.length - 1] ?? 0;
  console.log(`\n== growth: ${f.rates.length} runs of 2,000,000 points into the same series ==`);
  console.log(`  per run: ${f.rates.map(rate).join(", ")}`);
  console.log(
    `  first ${rate(first)}, tenth ${rate(last)}, ratio tenth / first: ${(last / first).toFixed(2)}   (target >= 0.8)`,
  );
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    const tenant = await env.newTenant("bench-growth");
    printGrowth(await benchGrowth(env, tenant.key, "growth"));
  } finally {
    await env.stop();
  }
}
