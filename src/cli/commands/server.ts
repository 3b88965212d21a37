import type { Command } from "commander";
import { type CommonOptions, integer, withCommonOptions } from "../common-options.js";
import { withDatabase } from "../database.js";
import { emit } from "../output.js";

/** `tdb serve` and `tdb migrate`. */
export function serverCommands(program: Command): void {
  program
    .command("serve")
    .description("run the server (as `npm start`); configuration from the environment")
    .option("--dsn <url>", "PostgreSQL URL (default: TDB_DATABASE_URL, else the embedded database)")
    .option("--host <address>", "listen address (default: TDB_HOST or 127.0.0.1)")
    .option("--port <port>", "listen port (default: TDB_PORT or 8080)", integer)
    .action(async (opts: { dsn?: string; host?: string; port?: number }) => {
      const env = { ...process.env };
      if (opts.dsn !== undefined) env.TDB_DATABASE_URL = opts.dsn;
      if (opts.host !== undefined) env.TDB_HOST = opts.host;
      if (opts.port !== undefined) env.TDB_PORT = String(opts.port);
      // Loaded on demand: the server pulls in every service, which other commands never need.
      const { serve } = await import("../../main.js");
      await serve(env);
    });

  withCommonOptions(
    program
      .command("migrate")
      .description("apply pending schema migrations (the server does it at start too)"),
  ).action(async (opts: CommonOptions) => {
    await withDatabase(opts, async (_pool, applied) => {
      emit(opts.json === true, { applied }, () => [
        applied.length > 0 ? `applied migrations: ${applied.join(", ")}` : "schema is up to date",
      ]);
    });
  });
}
