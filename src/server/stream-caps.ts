import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { principalKey } from "../auth/principal.js";
import { isPublicService } from "../auth/public-services.js";
import { onCallEnd } from "./call-end.js";

/** How many streaming calls may be open at once, per key, per tenant and unauthenticated. */
export interface StreamLimits {
  perKey: number;
  perTenant: number;
  /** Health/Watch and reflection together, all clients. */
  public: number;
}

/**
 * Caps open streaming calls (client, server or bidi streams) in this process: per key and
 * per tenant for authenticated ones, in total for the public services. A stream holds
 * memory, a socket and often a database connection for as long as the client likes, so
 * one tenant's streams must not be able to take what the others need. Over a cap the call
 * fails at once with `ResourceExhausted` saying which cap and what to do; unary calls are
 * not counted. Runs after authentication (it needs the principal) and before the service.
 */
export function capStreams(limits: StreamLimits): Interceptor {
  const perKey = new Counts();
  const perTenant = new Counts();
  let publicOpen = 0;
  return (next) => async (req) => {
    if (req.method.methodKind === "unary") return next(req);
    if (isPublicService(req.service.typeName)) {
      if (publicOpen >= limits.public)
        throw new ConnectError(
          `too many open unauthenticated streams on this server (${limits.public}); retry later`,
          Code.ResourceExhausted,
        );
      publicOpen++;
      return whileOpen(next, req, () => publicOpen--);
    }
    const p = req.contextValues.get(principalKey);
    if (!p) return next(req);
    if (perKey.get(p.keyId) >= limits.perKey)
      throw new ConnectError(
        `this key already has ${limits.perKey} open streams (Upload, ReadValues), the most allowed; finish or cancel one first`,
        Code.ResourceExhausted,
      );
    if (perTenant.get(p.tenantId) >= limits.perTenant)
      throw new ConnectError(
        `this tenant already has ${limits.perTenant} open streams (Upload, ReadValues), the most allowed; finish or cancel one first`,
        Code.ResourceExhausted,
      );
    perKey.add(p.keyId, 1);
    perTenant.add(p.tenantId, 1);
    return whileOpen(next, req, () => {
      perKey.add(p.keyId, -1);
      perTenant.add(p.tenantId, -1);
    });
  };
}

/** Runs the call and `release` exactly once when it is over, however it ends. */
async function whileOpen<R extends Parameters<Parameters<Interceptor>[0]>[0]>(
  next: (req: R) => ReturnType<ReturnType<Interceptor>>,
  req: R,
  release: () => void,
): ReturnType<ReturnType<Interceptor>> {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    release();
  };
  // A client that vanishes mid-stream may leave the response generator suspended forever;
  // the call's signal still fires.
  req.signal.addEventListener("abort", once, { once: true });
  return onCallEnd(
    () => next(req),
    (err) => {
      once();
      return err;
    },
  );
}

/** Open streams by key or tenant; entries at zero are removed so the map stays small. */
class Counts {
  private readonly m = new Map<string, number>();
  get(k: string): number {
    return this.m.get(k) ?? 0;
  }
  add(k: string, d: number): void {
    const n = this.get(k) + d;
    if (n <= 0) this.m.delete(k);
    else this.m.set(k, n);
  }
}
