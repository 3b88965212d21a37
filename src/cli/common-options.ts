import { type Command, InvalidArgumentError } from "commander";

/** Options of commands that open the database. */
export interface CommonOptions {
  dsn?: string;
  json?: boolean;
}

/** Options of commands that act inside one tenant. */
export interface TenantOptions extends CommonOptions {
  tenant?: string;
}

/** Adds --dsn and --json. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option(
      "--dsn <url>",
      "PostgreSQL URL (default: TDB_DATABASE_URL, else the embedded database in TDB_DATA_DIR)",
    )
    .option("--json", "print JSON for scripts");
}

/** Adds --dsn, --json and --tenant. */
export function withTenantOptions(cmd: Command): Command {
  return withCommonOptions(cmd).option(
    "--tenant <name-or-id>",
    "the tenant (default: TDB_TENANT, else the only tenant)",
  );
}

/** Parses a whole number option. */
export function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number");
  return Number(value);
}
