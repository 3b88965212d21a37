import { AlreadyExistsError, InvalidInputError, NotFoundError } from "../errors.js";

/**
 * Exit codes of `tdb`, for scripts: 0 success, 1 any other failure (database
 * unreachable, …), 2 bad usage or invalid input, 3 not found, 4 already exists.
 */
export const exitCodes = { ok: 0, failure: 1, usage: 2, notFound: 3, alreadyExists: 4 } as const;

/** A failure the CLI reports as one line with a chosen exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.failure,
  ) {
    super(message);
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof InvalidInputError) return exitCodes.usage;
  if (err instanceof NotFoundError) return exitCodes.notFound;
  if (err instanceof AlreadyExistsError) return exitCodes.alreadyExists;
  return exitCodes.failure;
}
