#!/usr/bin/env node
// `npx tdb …` from the repository: runs the TypeScript CLI (src/cli/main.ts) through tsx's
// loader, in this process, so signals (tdb serve) and exit codes pass through untouched.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
