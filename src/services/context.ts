import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { type Principal, principalKey } from "../auth/principal.js";

/** The authenticated caller; the auth interceptor guarantees it for every non-public method. */
export function callerOf(ctx: HandlerContext): Principal {
  const p = ctx.values.get(principalKey);
  if (!p) throw new ConnectError("API key required", Code.Unauthenticated);
  return p;
}
