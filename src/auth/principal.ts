import { type ConnectError, createContextKey } from "@connectrpc/connect";
import type { RoleName } from "./roles.js";

/** Who is calling: resolved once per request by the authentication interceptor. */
export interface Principal {
  tenantId: string;
  role: RoleName;
  /** How the caller proved itself. Static keys and JWTs are not rate-limited. */
  kind: "api_key" | "static_key" | "jwt";
  /** The API key id (db keys), or a stable name for static keys / JWT subjects. */
  keyId: string;
  /** Methods the key may call ("tdb.v1.TimeSeriesService/ReadValues"); empty = all its role allows. */
  allowedMethods: readonly string[];
  /** The key's own limit per minute; undefined = the server default. */
  rateLimit: number | undefined;
  /**
   * When the key expires, epoch microseconds as a decimal string; undefined = never (static
   * keys, and JWTs, whose exp is checked on every request instead). It bounds what a
   * restricted key may grant (grant-bounds.ts). Optional, so a principal built without a
   * database key behind it may leave it out.
   */
  expiresAtUs?: string | undefined;
  userId: string | undefined;
  userEmail: string | undefined;
}

/** Context key under which interceptors hand the principal to services. */
export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "tdb principal",
});

/** Why admission refused the caller before the body was read; the authenticate interceptor throws it. */
export const refusalKey = createContextKey<ConnectError | undefined>(undefined, {
  description: "tdb refusal",
});

/** How corrections record their author: the key id, with the user's email when the key has one. */
export function changedBy(p: Principal): string {
  return p.userEmail ? `${p.userEmail} (${p.keyId})` : p.keyId;
}
