import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type pg from "pg";
import { findActiveKey } from "../store/key-lookup.js";
import { hashApiKey, isWellFormedApiKey } from "./api-key.js";
import type { CredentialSources } from "./credential-sources.js";
import { credentialFrom } from "./credentials.js";
import { looksLikeJwt } from "./jwt.js";
import { type Principal, principalKey, refusalKey } from "./principal.js";
import { isPublicService } from "./public-services.js";
import { matchStaticKey } from "./static-keys.js";

/** The one message for every bad credential, so a caller cannot tell which check failed. */
export const invalidCredentialMessage = "invalid API key: unknown, malformed, expired or revoked";
export const missingCredentialMessage =
  "API key required: send it as 'x-api-key: tdbk_…' or 'authorization: Bearer tdbk_…'";

/**
 * Resolves the caller of a non-public call from the request headers; the server runs this
 * before the request body is read (src/server/rpc-handler.ts). In order: static keys
 * (constant-time, in memory), database keys (malformed ones are refused before any
 * database work: shape + checksum; the row is read on every request, so revocation,
 * rotation, role changes and user deactivation apply to the very next request on every
 * process), then JWTs. Every failure gets the same message.
 */
export async function resolveCaller(
  pool: pg.Pool,
  sources: CredentialSources,
  header: Headers,
): Promise<Principal> {
  const credential = credentialFrom(header);
  if (credential === undefined) throw new ConnectError(missingCredentialMessage, Code.Unauthenticated);
  const principal = await resolve(pool, sources, credential);
  if (!principal) throw new ConnectError(invalidCredentialMessage, Code.Unauthenticated);
  return principal;
}

/**
 * The interceptor side of authentication: a call of a non-public method goes on only with
 * the principal that admission resolved; otherwise the refusal it recorded is thrown here,
 * inside Connect, so the client gets it in its own protocol. Reflection and health are open.
 */
export function authenticate(): Interceptor {
  return (next) => async (req) => {
    if (isPublicService(req.service.typeName)) return next(req);
    const refusal = req.contextValues.get(refusalKey);
    if (refusal) throw refusal;
    if (!req.contextValues.get(principalKey))
      throw new ConnectError(missingCredentialMessage, Code.Unauthenticated);
    return next(req);
  };
}

async function resolve(
  pool: pg.Pool,
  sources: CredentialSources,
  credential: string,
): Promise<Principal | undefined> {
  if (sources.staticKeys.length > 0) {
    const key = matchStaticKey(sources.staticKeys, credential);
    if (key) {
      const tenantId = await sources.tenantId(key.tenant);
      if (!tenantId) return undefined;
      return unlimitedPrincipal(tenantId, key.role, "static_key", `static:${key.name}`, []);
    }
  }
  if (isWellFormedApiKey(credential)) {
    const key = await findActiveKey(pool, hashApiKey(credential));
    if (!key) return undefined;
    return {
      tenantId: key.tenantId,
      role: key.role,
      kind: "api_key",
      keyId: key.id,
      allowedMethods: key.allowedMethods,
      rateLimit: key.rateLimit ?? undefined,
      expiresAtUs: key.expiresAtUs ?? undefined,
      userId: key.userId ?? undefined,
      userEmail: key.userEmail ?? undefined,
    };
  }
  if (sources.jwt && looksLikeJwt(credential)) {
    const claims = await sources.jwt(credential);
    if (!claims) return undefined;
    const tenantId = await sources.tenantId(claims.tenant);
    if (!tenantId) return undefined;
    return unlimitedPrincipal(tenantId, claims.role, "jwt", `jwt:${claims.subject}`, claims.allowedMethods);
  }
  return undefined;
}

/** A principal for a static key or JWT: no database key behind it, so no rate limit or user. */
function unlimitedPrincipal(
  tenantId: string,
  role: Principal["role"],
  kind: "static_key" | "jwt",
  keyId: string,
  allowedMethods: string[],
): Principal {
  return {
    tenantId,
    role,
    kind,
    keyId,
    allowedMethods,
    rateLimit: undefined,
    expiresAtUs: undefined,
    userId: undefined,
    userEmail: undefined,
  };
}
