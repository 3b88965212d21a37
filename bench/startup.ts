import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { isMain, startBenchEnv } from "./lib/env.js";

/**
 * Start-up time (spawn to the "TDB listening" line, PostgreSQL already running) and RSS
 * after 3 s idle of `node dist/src/main.js`, median of five; `TDB_BENCH_SERVER_CMD` measures
 * another command instead (e.g. "node --import tsx src/main.ts"), in the same way.
 */
export async function benchStartup(databaseUrl: string, runs = 5): Promise<{ ms: number; rssMb: number }> {
  const cmd = (process.env.TDB_BENCH_SERVER_CMD ?? `${process.execPath} dist/src/main.js`).split(" ");
  const figures: { ms: number; rssMb: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      env: {
        ...process.env,
        TDB_DATABASE_URL: databaseUrl,
        TDB_PORT: "0",
        TDB_LOG_LEVEL: "warn",
        TDB_DRAIN_DELAY: "0",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) =>
      child.stdout?.on("data", (d: Buffer) => {
        if (String(d).includes("TDB listening")) resolve();
      }),
    );
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 3000));
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
    figures.push({ ms, rssMb: kb / 1024 });
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
  const median = (k: "ms" | "rssMb") =>
    [...figures].sort((a, b) => a[k] - b[k])[Math.floor(runs / 2)]?.[k] ?? 0;
  return { ms: median("ms"), rssMb: median("rssMb") };
}

if (isMain(import.meta.url)) {
  const env = await startBenchEnv();
  try {
    const f = await benchStartup(env.databaseUrl);
    console.log(
      `start-up median ${f.ms.toFixed(0)} ms, idle RSS median ${f.rssMb.toFixed(0)} MB (Node ${process.version})`,
    );
  } finally {
    await env.stop();
  }
}
