import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/server-process.js";

/**
 * `npm start` as a user or a process supervisor runs it: npm → sh → node. A signal sent to
 * npm must stop the server and its embedded PostgreSQL, and npm's exit code must say how it
 * ended. (Before, npm exited 143 and left the server serving, orphaned.)
 */
const dir = mkdtempSync(path.join(tmpdir(), "tdb-npm-start-"));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Started {
  npm: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function npmStart(): Promise<Started> {
  const npm = spawn("npm", ["start"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TDB_DATA_DIR: path.join(dir, "data"),
      TDB_PORT: "0",
      TDB_DRAIN_DELAY: "0",
      TDB_DATABASE_URL: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  npm.stdout?.on("data", (d: Buffer) => (out += d));
  npm.stderr?.on("data", (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => npm.once("exit", (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const onData = () => {
      const m = /TDB listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    };
    npm.stdout?.on("data", onData);
    void exited.then((code) => reject(new Error(`npm start exited ${code} before listening:\n${out}`)));
  });
  return { npm, port, output: () => out, exited };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("npm start", () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`stops the server and its embedded PostgreSQL on ${signal} sent to npm, exiting 0`, async () => {
      const s = await npmStart();
      // The banner names the runtime: the project's own Node (package.json "node"), not the machine's.
      expect(s.output()).toMatch(/runtime: Node v(2[2-9]|[3-9]\d)\./);
      expect(await accepts(s.port)).toBe(true);
      const postmaster = path.join(dir, "data", "pg", "postmaster.pid");
      expect(existsSync(postmaster)).toBe(true);
      s.npm.kill(signal);
      expect(await s.exited).toBe(0);
      expect(s.output()).toMatch(new RegExp(`"signal":"${signal}"`));
      expect(await accepts(s.port)).toBe(false);
      // PostgreSQL removes its pid file when it has stopped.
      expect(existsSync(postmaster)).toBe(false);
    });
  }
});
