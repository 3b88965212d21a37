import { randomUUID } from "node:crypto";
import pg from "pg";

/** A database of its own in an existing PostgreSQL cluster, for one test file, helper or bench run. */
export interface ScratchDatabase {
  url: string;
  /** Drops it, even while connections are still open. */
  drop(): Promise<void>;
}

/** Creates an empty database named `<prefix>_<random>` in the cluster of `adminUrl` (a superuser URL). */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  return {
    url: adminUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`),
    drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
