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
    .showHelpAfterError("(run with --help for usage)");
  serverCommands(program);
  tenantsCommand(program);
  usersCommand(program);
  keysCommand(program);
  importCommand(program);
  return program;
}
