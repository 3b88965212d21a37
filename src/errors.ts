/**
 * Domain errors: what store and service code throws. They carry no transport detail; the
 * error interceptor maps them to Connect codes, so a store never imports Connect.
 */

/** The request is malformed; `field` names the offending field path, e.g. `chunks[2].values[17]`. */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The thing does not exist for this caller. Another tenant's id gets exactly the same error. */
export class NotFoundError extends Error {}

/** A unique identity is taken. */
export class AlreadyExistsError extends Error {}

/** A limit on size or count was exceeded. */
export class LimitExceededError extends Error {}
