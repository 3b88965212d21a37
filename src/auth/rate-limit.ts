import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type pg from "pg";
import { countRequest, type WindowCount } from "../store/rate-limits.js";
import { withTenant } from "../store/tenant-tx.js";
import { principalKey } from "./principal.js";

/**
 * Per-key rate limit: a fixed window per calendar minute of the database clock, counted in
 * PostgreSQL so several server processes sharing the database enforce one exact limit.
 * The limit is the key's own (`rate_limit`, read fresh on every request by
 * authentication) or `defaultLimit`. Static keys and JWTs are not limited; neither are
 * the public services, which carry no principal.
 *
 * Over the limit: `ResourceExhausted` (HTTP 429 in the Connect protocol) whose metadata
 * — response headers, or trailers in gRPC — carries `Retry-After` (seconds),
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` (0) and `X-RateLimit-Reset` (epoch
 * seconds of the next window). Successful calls carry the last three too. Refused
 * requests count as well: a client hammering the limit does not get a cheaper path.
 *
 * If the counter cannot be written the call fails (Internal): the limiter fails closed.
 */
export function rateLimit(pool: pg.Pool, defaultLimit: number): Interceptor {
  return (next) => async (req) => {
    const p = req.contextValues.get(principalKey);
    if (p?.kind !== "api_key") return next(req);
    const limit = p.rateLimit ?? defaultLimit;
    const w = await withTenant(pool, p.tenantId, (c) => countRequest(c, p.tenantId, p.keyId));
    if (w.count > limit) {
      const metadata = limitHeaders(limit, w);
      metadata.set("retry-after", String(w.retryAfterSeconds));
      throw new ConnectError(
        `rate limit exceeded: this key may make ${limit} requests per minute; retry after ${w.retryAfterSeconds} s`,
        Code.ResourceExhausted,
        metadata,
      );
    }
    const res = await next(req);
    limitHeaders(limit, w).forEach((value, name) => {
      res.header.set(name, value);
    });
    return res;
  };
}

/** The three X-RateLimit headers for a window count. */
export function limitHeaders(limit: number, w: WindowCount): Headers {
  return new Headers({
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(Math.max(0, limit - w.count)),
    "x-ratelimit-reset": String(w.resetEpochSeconds),
  });
}
