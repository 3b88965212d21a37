import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AlreadyExistsError, InvalidInputError, LimitExceededError, NotFoundError } from "../errors.js";
import { DatabaseUnavailableError, isConnectionLost } from "../store/db-errors.js";
import { onCallEnd } from "./call-end.js";

const busyMessage =
  "the server's database connections are all busy: the call was not run; retry in a few seconds";

/** Maps a domain error to the Connect error a client can act on; other errors pass unchanged. */
export function toConnectError(err: unknown): unknown {
  if (err instanceof ConnectError) return err;
  if (err instanceof InvalidInputError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof NotFoundError) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof AlreadyExistsError) return new ConnectError(err.message, Code.AlreadyExists);
  if (err instanceof LimitExceededError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof DatabaseUnavailableError)
    return new ConnectError(err.message, Code.Unavailable, undefined, undefined, err.cause);
  if (isConnectionLost(err)) {
    // pg-pool's acquire timeout: the pool is exhausted, PostgreSQL itself may be fine.
    const busy = err instanceof Error && err.message.includes("timeout exceeded when trying to connect");
    const message = busy ? busyMessage : new DatabaseUnavailableError(err).message;
    return new ConnectError(message, Code.Unavailable, undefined, undefined, err);
  }
  // A client that went away mid-stream (Node's premature close, an abort) is a cancel.
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === "ERR_STREAM_PREMATURE_CLOSE" || (err instanceof Error && err.name === "AbortError"))
    return new ConnectError("the client cancelled the call", Code.Canceled, undefined, undefined, err);
  return err;
}

/** Translates domain errors thrown by services (also mid-stream) into Connect codes. */
export function mapErrors(): Interceptor {
  return (next) => (req) =>
    onCallEnd(
      () => next(req),
      // Once the client is gone, a failed write (ECONNRESET, a premature close) is its cancel,
      // not a lost database.
      (err) =>
        req.signal.aborted && !(err instanceof ConnectError)
          ? new ConnectError("the client cancelled the call", Code.Canceled, undefined, undefined, err)
          : toConnectError(err),
    );
}
