import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (cwd of spawned servers and CLI runs). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A real `tdb` server process (`node dist/src/main.js`, what `npm start` runs) on a random port. */
export interface ServerProcess {
  url: string;
  /** Everything it wrote to stdout and stderr so far (JSON log lines and the banner). */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code once it has drained and exited. */
  stop(): Promise<number | null>;
  /** Sends `signal` (default SIGTERM) and returns at once: the caller watches the drain. */
  signal(signal?: NodeJS.Signals): void;
  /** Resolves with the exit code (null when a signal ended it) once the process has exited. */
  exited: Promise<number | null>;
  /** True until the process has exited. */
  alive(): boolean;
}

/**
 * Starts a server process on `databaseUrl` (undefined = embedded) with TDB_PORT=0 and waits for its
 * "TDB listening on <url>" line. Logs at info level, so every RPC leaves a line.
 */
export async function spawnServer(
  databaseUrl: string | undefined,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TDB_PORT: "0",
    TDB_HOST: "127.0.0.1",
    TDB_LOG_LEVEL: "info",
    // Tests stop servers often; the drain delay is for load balancers (its own test sets it).
    TDB_DRAIN_DELAY: "0",
    ...env,
  };
  // Without a URL the server uses the embedded database of TDB_DATA_DIR.
  if (databaseUrl === undefined) delete childEnv.TDB_DATABASE_URL;
  else childEnv.TDB_DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, ["dist/src/main.js"], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /TDB listening on (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        child.stdout?.off("data", onData);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
  return {
    url,
    output: () => out,
    stop: () => stop(child),
    signal: (signal = "SIGTERM") => {
      child.kill(signal);
    },
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

/** Every `tdbk_…` key (or anything shaped like one) found in `text`. */
export function rawKeysIn(text: string): string[] {
  return text.match(/tdbk_[0-9A-Za-z]{20,}/g) ?? [];
}
