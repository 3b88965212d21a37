import { execFile } from "node:child_process";
import { repoRoot } from "../helpers/server-process.js";

/** What one `tdb` run printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/tdb.js …args` (what `npx tdb` runs) from the repository root. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/tdb.js", ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI with --json and parses its output; fails loudly when it exits non-zero. */
export async function cliJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const r = await runCli([...args, "--json"], env);
  if (r.code !== 0) throw new Error(`tdb ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
