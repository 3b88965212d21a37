import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type pg from "pg";
import type { ApiKeySchema, KeyAdminService, UserSchema } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { exceededBound, type Privileges } from "../auth/grant-bounds.js";
import * as settings from "../auth/key-settings.js";
import type { Principal } from "../auth/principal.js";
import { roleEnum } from "../auth/roles.js";
import type { Config } from "../config.js";
import { InvalidInputError, NotFoundError } from "../errors.js";
import * as keys from "../store/keys-store.js";
import { withTenant } from "../store/tenant-tx.js";
import * as users from "../store/users-store.js";
import { callerOf } from "./context.js";
import * as v from "./validate.js";

/**
 * tdb.v1.KeyAdminService: keys and users of the caller's tenant. Every method needs an
 * admin key (declared in the proto, enforced by the policy interceptor) and runs in the
 * caller's tenant transaction, so another tenant's ids answer exactly like missing ones.
 * No call may give a key more than the caller holds, nor revoke a key or (de)activate a
 * user holding more than the caller (see grant-bounds.ts). Bounds are checked only once
 * the target is found in the tenant, so a refusal never stands in for NotFound.
 */
export function keyAdminService(pool: pg.Pool, config: Config): ServiceImpl<typeof KeyAdminService> {
  /** Refuses, as PermissionDenied naming the bound, to `action` a key with more than the caller. */
  const bounded = (caller: Principal, action: string, key: Privileges): void => {
    const excess = exceededBound(caller, key, config.TDB_DEFAULT_RATE_LIMIT);
    if (excess) {
      throw new ConnectError(
        `this key ${excess.held}; it cannot ${action} that ${excess.wanted}`,
        Code.PermissionDenied,
      );
    }
  };
  return {
    async createKey(req, ctx) {
      const caller = callerOf(ctx);
      const input: keys.NewKey = {
        name: settings.keyName("name", req.name),
        role: settings.roleFrom("role", req.role, "admin"),
        expiresInDays: settings.expiresInDays("expires_in_days", req.expiresInDays),
        rateLimit: settings.rateLimit("rate_limit", req.rateLimit),
        allowedMethods: settings.allowedMethods("allowed_methods", req.allowedMethods),
        userId: req.userId === "" ? undefined : settings.opaqueId("user_id", req.userId),
      };
      const issued = await withTenant(pool, caller.tenantId, (c) =>
        keys.createKey(c, caller.tenantId, input, (key) => bounded(caller, "grant a key", key)),
      );
      return { key: keyMessage(issued.key), rawKey: issued.rawKey };
    },

    async listKeys(req, ctx) {
      const caller = callerOf(ctx);
      const limit = v.pageSize("page_size", req.pageSize);
      const after = v.decodePageToken("page_token", req.pageToken, cursorFields);
      const rows = await withTenant(pool, caller.tenantId, (c) =>
        keys.listKeys(c, { limit: limit + 1, after }),
      );
      const page = rows.slice(0, limit);
      return { keys: page.map(keyMessage), nextPageToken: nextToken(rows, page) };
    },

    async getKey(req, ctx) {
      const caller = callerOf(ctx);
      const id = settings.opaqueId("key_id", req.keyId);
      const row = await withTenant(pool, caller.tenantId, (c) => keys.getKey(c, id));
      return { key: keyMessage(row ?? keyNotFound(id)) };
    },

    async revokeKey(req, ctx) {
      const caller = callerOf(ctx);
      const id = settings.opaqueId("key_id", req.keyId);
      const row = await withTenant(pool, caller.tenantId, async (c) => {
        const key = await keys.lockLiveKey(c, id);
        if (!key) return undefined;
        bounded(caller, "revoke a key", key);
        return keys.revokeKey(c, id);
      });
      return { key: keyMessage(row ?? keyNotFound(id)) };
    },

    async rotateKey(req, ctx) {
      const caller = callerOf(ctx);
      const id = settings.opaqueId("key_id", req.keyId);
      const issued = await withTenant(pool, caller.tenantId, (c) =>
        keys.rotateKey(c, id, (old) => bounded(caller, "rotate a key", old)),
      ).catch(expiredAsPrecondition);
      if (!issued) keyNotFound(id);
      return { key: keyMessage(issued.key), rawKey: issued.rawKey };
    },

    async setKeyRole(req, ctx) {
      const caller = callerOf(ctx);
      const id = settings.opaqueId("key_id", req.keyId);
      if (req.role === Role.UNSPECIFIED) throw new InvalidInputError("role", "is required");
      const role = settings.roleFrom("role", req.role, "read");
      const row = await withTenant(pool, caller.tenantId, async (c) => {
        const key = await keys.lockLiveKey(c, id);
        if (!key) return undefined;
        bounded(caller, "change a key", key);
        bounded(caller, "grant a key", { ...key, role });
        return keys.setKeyRole(c, id, role);
      });
      return { key: keyMessage(row ?? keyNotFound(id)) };
    },

    async setKeyAllowedMethods(req, ctx) {
      const caller = callerOf(ctx);
      const id = settings.opaqueId("key_id", req.keyId);
      if (req.clear && req.methods.length > 0) {
        throw new InvalidInputError("methods", "give methods or set clear, not both");
      }
      if (!req.clear && req.methods.length === 0) {
        throw new InvalidInputError(
          "methods",
          "give at least one method, or set clear to lift the restriction",
        );
      }
      const methods = settings.allowedMethods("methods", req.methods);
      const row = await withTenant(pool, caller.tenantId, async (c) => {
        const key = await keys.lockLiveKey(c, id);
        if (!key) return undefined;
        bounded(caller, "change a key", key);
        bounded(caller, "grant a key", { ...key, allowedMethods: methods });
        return keys.setKeyAllowedMethods(c, id, methods);
      });
      return { key: keyMessage(row ?? keyNotFound(id)) };
    },

    async setKeyRateLimit(req, ctx) {
      const caller = callerOf(ctx);
      const id = settings.opaqueId("key_id", req.keyId);
      if (req.clear && req.requestsPerMinute !== 0) {
        throw new InvalidInputError("requests_per_minute", "give a limit or set clear, not both");
      }
      const limit = req.clear ? null : settings.rateLimit("requests_per_minute", req.requestsPerMinute);
      if (limit === undefined) {
        throw new InvalidInputError("requests_per_minute", "is required (1–1000000), or set clear");
      }
      const row = await withTenant(pool, caller.tenantId, async (c) => {
        const key = await keys.lockLiveKey(c, id);
        if (!key) return undefined;
        bounded(caller, "change a key", key);
        bounded(caller, "grant a key", { ...key, rateLimit: limit });
        return keys.setKeyRateLimit(c, id, limit);
      });
      return { key: keyMessage(row ?? keyNotFound(id)) };
    },

    async createUser(req, ctx) {
      const caller = callerOf(ctx);
      const email = settings.email("email", req.email);
      const role = settings.roleFrom("role", req.role, "readwrite");
      // The first key: unrestricted, never expiring, at the server's default limit.
      bounded(caller, "grant a key", { role, allowedMethods: [], expiresAtUs: null, rateLimit: null });
      const r = await withTenant(pool, caller.tenantId, (c) =>
        users.createUser(c, caller.tenantId, email, role),
      );
      return { user: userMessage(r.user), key: keyMessage(r.key), rawKey: r.rawKey };
    },

    async listUsers(req, ctx) {
      const caller = callerOf(ctx);
      const limit = v.pageSize("page_size", req.pageSize);
      const after = v.decodePageToken("page_token", req.pageToken, cursorFields);
      const rows = await withTenant(pool, caller.tenantId, (c) =>
        users.listUsers(c, { includeInactive: req.includeInactive, limit: limit + 1, after }),
      );
      const page = rows.slice(0, limit);
      return { users: page.map(userMessage), nextPageToken: nextToken(rows, page) };
    },

    async deactivateUser(req, ctx) {
      const caller = callerOf(ctx);
      const ref = userRef(req.user);
      const row = await withTenant(pool, caller.tenantId, (c) =>
        users.setUserActive(c, ref, false, (key) =>
          bounded(caller, `deactivate ${users.describeUser(ref)}, who holds a key`, key),
        ),
      );
      return { user: userMessage(row ?? userNotFound(ref)) };
    },

    async activateUser(req, ctx) {
      const caller = callerOf(ctx);
      const ref = userRef(req.user);
      const row = await withTenant(pool, caller.tenantId, (c) =>
        users.setUserActive(c, ref, true, (key) =>
          bounded(caller, `activate ${users.describeUser(ref)}, who holds a key`, key),
        ),
      );
      return { user: userMessage(row ?? userNotFound(ref)) };
    },

    async regenerateUserKey(req, ctx) {
      const caller = callerOf(ctx);
      const ref = userRef(req.user);
      const issued = await withTenant(pool, caller.tenantId, (c) =>
        users.regenerateUserKey(c, caller.tenantId, ref, (key) =>
          bounded(caller, `regenerate the keys of ${users.describeUser(ref)}, who would hold a key`, key),
        ),
      ).catch(expiredAsPrecondition);
      if (!issued) userNotFound(ref);
      return { key: keyMessage(issued.key), rawKey: issued.rawKey };
    },
  };
}

/** One message for missing, other tenant's and (where it applies) revoked keys. */
function keyNotFound(id: string): never {
  throw new NotFoundError(`key ${id} not found`);
}

function userNotFound(ref: users.UserRef): never {
  throw new NotFoundError(`${users.describeUser(ref)} not found`);
}

function expiredAsPrecondition(err: unknown): never {
  if (err instanceof keys.KeyExpiredError) throw new ConnectError(err.message, Code.FailedPrecondition);
  throw err;
}

function userRef(
  user:
    | { case: "userId"; value: string }
    | { case: "email"; value: string }
    | { case: undefined; value?: undefined },
): users.UserRef {
  if (user.case === "userId") return { id: settings.opaqueId("user_id", user.value) };
  if (user.case === "email") return { email: settings.email("email", user.value) };
  throw new InvalidInputError("user", "give user_id or email");
}

interface Cursor {
  createdAtUs: string;
  id: string;
}

/** What a decoded key or user cursor must hold: a creation time in range and a UUID. */
const cursorFields: Record<keyof Cursor, v.CursorField> = {
  createdAtUs: v.cursor.timeUs,
  id: (x): x is string => typeof x === "string" && settings.looksLikeId(x),
};

function nextToken(rows: readonly Cursor[], page: readonly Cursor[]): string {
  const last = page[page.length - 1];
  return rows.length > page.length && last
    ? v.encodePageToken({ createdAtUs: last.createdAtUs, id: last.id })
    : "";
}

function keyMessage(k: keys.KeyRow): MessageInitShape<typeof ApiKeySchema> {
  return {
    id: k.id,
    name: k.name,
    keyPrefix: k.keyPrefix,
    role: roleEnum(k.role),
    createdAt: timestamp(k.createdAtUs),
    expiresAt: k.expiresAtUs === null ? undefined : timestamp(k.expiresAtUs),
    revokedAt: k.revokedAtUs === null ? undefined : timestamp(k.revokedAtUs),
    lastUsedAt: k.lastUsedAtUs === null ? undefined : timestamp(k.lastUsedAtUs),
    rateLimit: k.rateLimit ?? 0,
    allowedMethods: k.allowedMethods,
    userId: k.userId ?? "",
  };
}

function userMessage(u: users.UserRow): MessageInitShape<typeof UserSchema> {
  return { id: u.id, email: u.email, active: u.active, createdAt: timestamp(u.createdAtUs) };
}

/** A Timestamp from epoch microseconds given as a decimal string (exact, no Date rounding). */
function timestamp(us: string): Timestamp {
  const n = BigInt(us);
  let seconds = n / 1_000_000n;
  let micros = n % 1_000_000n;
  if (micros < 0n) {
    seconds -= 1n;
    micros += 1_000_000n;
  }
  return create(TimestampSchema, { seconds, nanos: Number(micros) * 1000 });
}
