import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type pg from "pg";
import { findActiveKey } from "../store/key-lookup.js";
import { hashApiKey, isWellFormedApiKey } from "./api-key.js";
import { credentialFrom } from "./credentials.js";
import { type Principal, principalKey } from "./principal.js";
import { isPublicService } from "./public-services.js";

/** The one message for every bad credential, so a caller cannot tell which check failed. */
export const invalidCredentialMessage = "invalid API key: unknown, malformed, expired or revoked";
export const missingCredentialMessage =
  "API key required: send it as 'x-api-key: tdbk_…' or 'authorization: Bearer tdbk_…'";

/**
 * Resolves the caller and stores the Principal in the context values. Malformed keys are
 * refused before any database work (shape + checksum). Reflection and health are open.
 */
export function authenticate(pool: pg.Pool): Interceptor {
  return (next) => async (req) => {
    if (isPublicService(req.service.typeName)) return next(req);
    const credential = credentialFrom(req.header);
    if (credential === undefined) throw new ConnectError(missingCredentialMessage, Code.Unauthenticated);
    const principal = await resolve(pool, credential);
    if (!principal) throw new ConnectError(invalidCredentialMessage, Code.Unauthenticated);
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}

async function resolve(pool: pg.Pool, credential: string): Promise<Principal | undefined> {
  if (!isWellFormedApiKey(credential)) return undefined;
  const key = await findActiveKey(pool, hashApiKey(credential));
  if (!key) return undefined;
  return {
    tenantId: key.tenantId,
    role: key.role,
    kind: "api_key",
    keyId: key.id,
    allowedMethods: key.allowedMethods,
    rateLimit: key.rateLimit ?? undefined,
    userId: key.userId ?? undefined,
    userEmail: key.userEmail ?? undefined,
  };
}
