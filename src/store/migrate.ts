import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

/** Arbitrary constant: the advisory lock that serialises concurrent migrators. */
const lockId = 7_120_251;

/**
 * Applies the numbered SQL files of `store/migrations/` that are not yet recorded in
 * `tdb_migrations`, in order, each in its own transaction. Safe to call from several
 * processes at once (an advisory lock serialises them). Returns the versions applied.
 * `upTo` stops after that version (tests of a migration start from the schema before it).
 */
export async function migrate(pool: pg.Pool, upTo = Number.POSITIVE_INFINITY): Promise<number[]> {
  const files = (await readdir(migrationsDir)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [lockId]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS tdb_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ version: number }>("SELECT version FROM tdb_migrations")).rows.map(
        (r) => r.version,
      ),
    );
    for (const file of files) {
      const version = Number(file.slice(0, 4));
      if (done.has(version) || version > upTo) continue;
      const sql = await readFile(path.join(migrationsDir, file), "utf8");
      try {
        await client.query("BEGIN");
        await client.query(sql);
        await client.query("INSERT INTO tdb_migrations (version, name) VALUES ($1, $2)", [version, file]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(version);
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [lockId]).catch(() => {});
    client.release();
  }
  return applied;
}
