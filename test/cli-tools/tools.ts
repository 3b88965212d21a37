import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { it } from "vitest";

/** The repository root (tools live in its .bin/ and node_modules/.bin/). */
export const repoRoot = path.resolve(import.meta.dirname, "../..");

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable among `candidates` (absolute paths), then `name` on PATH. */
export function findTool(name: string, candidates: string[]): string | undefined {
  const found = candidates.find(executable);
  if (found) return found;
  try {
    const onPath = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
    return onPath || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Declares a suite's dependency on an outside tool. When it is missing, the suite must be
 * skipped: outside CI that is said loudly; in CI (`CI=true`) a failing test is registered
 * instead, because a silently skipped client suite would hide a broken product.
 * Returns whether the tool is there; use it with `describe.skipIf(!ok)`.
 */
export function requireTool(name: string, found: string | undefined): found is string {
  if (found) return true;
  const message = `${name} not found: run \`bash scripts/setup-tools.sh\` (also run by scripts/setup.sh)`;
  if (process.env.CI === "true") {
    it(`has ${name} installed`, () => {
      throw new Error(message);
    });
  } else {
    console.warn(`\n!!!!!!!! SKIPPING ${name} tests — ${message} !!!!!!!!\n`);
  }
  return false;
}

/** What a finished command left behind. */
export interface RunResult {
  /** Exit status (grpcurl: 64 + gRPC code on an RPC error; buf curl: gRPC code × 8). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without a shell; never throws on a non-zero exit. */
export function run(file: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          reject(err);
          return;
        }
        resolve({ code: typeof err?.code === "number" ? err.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? "");
  });
}
