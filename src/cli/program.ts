import { readFileSync } from "node:fs";
import { Command } from "commander";
import { importCommand } from "./commands/import.js";
import { keysCommand } from "./commands/keys.js";
import { serverCommands } from "./commands/server.js";
import { tenantsCommand } from "./commands/tenants.js";
import { usersCommand } from "./commands/users.js";

/**
 * The `tdb` command line: `serve`, `migrate`, `tenants`, `users`, `keys`, `import`. Every command has
 * `--help`; database commands take `--dsn` (else TDB_DATABASE_URL, else the embedded
 * database in TDB_DATA_DIR) and `--json`; tenant commands take `--tenant`.
 */
export function buildProgram(): Command {
  const program = new Command("tdb")
    .description("TDB operator CLI: run the server, migrate, manage tenants, users and API keys, import CSV")
    .version(packageVersion(), "-V, --version", "print the version and the Node it runs on")
    // Usage errors as every other failure: one line `tdb: <reason>` (exit 2).
    .configureOutput({
      outputError: (text, write) => write(`tdb: ${text.trim().replace(/^error: /, "")} (see tdb --help)\n`),
    });
  serverCommands(program);
  tenantsCommand(program);
  usersCommand(program);
  keysCommand(program);
  importCommand(program);
  return program;
}

/** "tdb 0.1.0 (Node v24…)": the version in the package.json above this file (src/ or dist/src/). */
function packageVersion(): string {
  for (let dir = new URL("./", import.meta.url); dir.pathname !== "/"; dir = new URL("../", dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "tdb") return `tdb ${pkg.version} (Node ${process.version})`;
    } catch {}
  }
  return `tdb (Node ${process.version})`;
}
