#!/usr/bin/env node
// `npx tdb …`: runs the compiled CLI (dist/, built by `npm install` or `npm run build`) in
// this process, so signals (tdb serve) and exit codes pass through untouched.
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("tdb: dist/ is missing: run `npm run build` (npm install does it) first\n");
  process.exit(1);
}
await import(entry.href);
