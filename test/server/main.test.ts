import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor } from "../helpers/clients.js";

/** `npm start` as a user runs it: a real process, embedded PostgreSQL, a fresh data folder. */
const dataDir = mkdtempSync(path.join(tmpdir(), "tdb-main-"));
chmodSync(dataDir, 0o755);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function start(): { proc: ChildProcess; output: () => string; ready: Promise<string> } {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      TDB_PORT: "0",
      TDB_DATA_DIR: path.join(dataDir, "data"),
      TDB_DATABASE_URL: "",
      TDB_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ready = new Promise<string>((resolve, reject) => {
    proc.stdout?.on("data", (d) => {
      out += d;
      const m = /TDB listening on (http:\/\/\S+)/.exec(out);
      if (m && out.includes("try:")) resolve(m[1] ?? "");
    });
    proc.stderr?.on("data", (d) => (out += d));
    proc.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  return { proc, output: () => out, ready };
}

async function stop(proc: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  proc.kill("SIGTERM");
  return exited;
}

describe("npm start", () => {
  it("starts on embedded PostgreSQL, prints the address and one admin key, and stops cleanly on SIGTERM", async () => {
    const first = start();
    const url = await first.ready;
    const key = /admin key: (tdbk_\w+)/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    const client = clientFor(TimeSeriesService, url, key, "grpc");
    await client.createSeries({ name: "persisted" });
    expect(await stop(first.proc)).toBe(0);

    // Second start on the same data: no new key, the data is still there.
    const second = start();
    const url2 = await second.ready;
    expect(second.output()).not.toMatch(/admin key:/);
    const again = clientFor(TimeSeriesService, url2, key, "connect");
    expect((await again.listSeries({})).series.map((s) => s.name)).toEqual(["persisted"]);
    expect(await stop(second.proc)).toBe(0);
  });

  it("refuses a bad variable with one line naming it and exit code 2", async () => {
    const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
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
