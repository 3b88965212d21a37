import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { principalKey } from "../auth/principal.js";
import type { Logger } from "../logger.js";
import { onCallEnd } from "./call-end.js";
import { loggedKey } from "./rpc-handler.js";

/**
 * Logs one JSON line per RPC: method, code, duration, tenant and key id. It is the
 * outermost interceptor, so it sees the final code of every call, including refusals by
 * the interceptors inside it. Unexpected errors are logged with their stack here and
 * reach the client as `Internal` without details.
 */
export function logCalls(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const line = (code: string, extra?: object) => {
      const logged = req.contextValues.get(loggedKey);
      if (logged) logged.done = true;
      const p = req.contextValues.get(principalKey);
      logger.info(
        {
          method: `${req.service.typeName}/${req.method.name}`,
          code,
          ms: Math.round((performance.now() - started) * 100) / 100,
          tenant: p?.tenantId,
          key: p?.keyId,
          ...extra,
        },
        "rpc",
      );
    };
    return onCallEnd(
      () => next(req),
      (err) => {
        if (err === undefined) {
          line("ok");
          return undefined;
        }
        if (err instanceof ConnectError) {
          // A lost database is worth its cause in the log (never in the answer).
          const cause =
            err.code === Code.Unavailable && err.cause instanceof Error ? { cause: err.cause.message } : {};
          line(Code[err.code] ?? String(err.code), cause);
          return err;
        }
        if (req.signal.aborted) {
          line("Canceled");
          return new ConnectError("the client cancelled the call", Code.Canceled);
        }
        line("Internal", {
          err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err),
        });
        return new ConnectError("internal error", Code.Internal);
      },
      req.signal,
    );
  };
}
