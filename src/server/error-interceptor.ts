import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AlreadyExistsError, InvalidInputError, LimitExceededError, NotFoundError } from "../errors.js";
import { onCallEnd } from "./call-end.js";

/** Maps a domain error to the Connect error a client can act on; other errors pass unchanged. */
export function toConnectError(err: unknown): unknown {
  if (err instanceof ConnectError) return err;
  if (err instanceof InvalidInputError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof NotFoundError) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof AlreadyExistsError) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof LimitExceededError) return new ConnectError(err.message, Code.InvalidArgument);
  return err;
}

/** Translates domain errors thrown by services (also mid-stream) into Connect codes. */
export function mapErrors(): Interceptor {
  return (next) => (req) => onCallEnd(() => next(req), toConnectError);
}
