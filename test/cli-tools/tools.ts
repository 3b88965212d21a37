import { execFileSync } from "node:child_process";
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
