import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../../src/store/embedded-postgres.js";

/**
 * A PostgreSQL cluster of one test file's own (embedded binaries, throw-away folder), for
 * tests that stop and start the database: the shared cluster of the run must stay up.
 * `restart` keeps the port and data, as a real restart or failover to the same address.
 */
export interface OwnPostgres {
  /** URL of its `tdb` database (superuser). */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and removes its folder. */
  destroy(): Promise<void>;
}

export async function ownPostgres(): Promise<OwnPostgres> {
  // Traversable: as root, embedded-postgres runs PostgreSQL as an unprivileged user.
  const dir = await mkdtemp(path.join(tmpdir(), "tdb-own-pg-"));
  await chmod(dir, 0o755);
  let running: EmbeddedDatabase | undefined = await startEmbeddedPostgres(dir);
  const url = running.url;
  return {
    url,
    async stop() {
      await running?.stop();
      running = undefined;
    },
    async start() {
      running ??= await startEmbeddedPostgres(dir);
    },
    async destroy() {
      await running?.stop();
      running = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
