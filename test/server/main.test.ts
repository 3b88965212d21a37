import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor } from "../helpers/clients.js";
import { repoRoot, spawnServer } from "../helpers/server-process.js";

/** `npm start` as a user runs it: a real process, embedded PostgreSQL, a fresh data folder. */
const dataDir = mkdtempSync(path.join(tmpdir(), "tdb-main-"));
chmodSync(dataDir, 0o755);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const embedded = { TDB_DATA_DIR: path.join(dataDir, "data"), TDB_LOG_LEVEL: "warn" };

describe("npm start", () => {
  it("starts on embedded PostgreSQL, prints the address and one admin key, and stops cleanly on SIGTERM", async () => {
    const first = await spawnServer(undefined, embedded);
    const key = /admin key: (tdbk_\w+)/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    expect(first.output()).toMatch(/database: embedded PostgreSQL/);
    const client = clientFor(TimeSeriesService, first.url, key, "grpc");
    await client.createSeries({ name: "persisted" });
    expect(await first.stop()).toBe(0);

    // Second start on the same data: no new key, the data is still there.
    const second = await spawnServer(undefined, embedded);
    expect(second.output()).not.toMatch(/admin key:/);
    const again = clientFor(TimeSeriesService, second.url, key, "connect");
    expect((await again.listSeries({})).series.map((s) => s.name)).toEqual(["persisted"]);
    expect(await second.stop()).toBe(0);
  });

  it("refuses a bad variable with one line naming it and exit code 2", async () => {
    const proc = spawn(process.execPath, ["dist/src/main.js"], {
      cwd: repoRoot,
      env: { ...process.env, TDB_PORT: "not-a-port" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    proc.stderr?.on("data", (d) => (err += d));
    const code = await new Promise<number | null>((r) => proc.once("exit", r));
    expect(code).toBe(2);
    expect(err.trim().split("\n")).toEqual([expect.stringMatching(/^invalid TDB_PORT: /)]);
  });
});

describe("npm start as root from a folder others cannot enter", () => {
  // Only root hands PostgreSQL to another user; elsewhere the case cannot arise.
  it.runIf(process.getuid?.() === 0)(
    "fails at once with one line naming the folder and the fix, not deep inside initdb",
    async () => {
      const home = mkdtempSync(path.join(tmpdir(), "tdb-root-home-"));
      chmodSync(home, 0o700);
      try {
        const proc = spawn(process.execPath, ["dist/src/main.js"], {
          cwd: repoRoot,
          env: { ...process.env, TDB_DATABASE_URL: "", TDB_DATA_DIR: path.join(home, "checkout", ".tdb") },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let err = "";
        proc.stderr?.on("data", (d) => (err += d));
        const code = await new Promise<number | null>((r) => proc.once("exit", r));
        expect(code).toBe(1);
        expect(err.trim().split("\n")).toEqual([
          expect.stringContaining(`cannot enter ${home} (mode 700): set TDB_DATA_DIR to a folder outside it`),
        ]);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  );
});
