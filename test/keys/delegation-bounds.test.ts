import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

// The server default (100000 a minute, from startTestServer) is far above the delegates'
// own limit, so a key left at the default out-ranks them.
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv?.close();
});

const listSeries = "tdb.v1.TimeSeriesService/ListSeries";
const adminMethods = KeyAdminService.methods.map((m) => `${KeyAdminService.typeName}/${m.name}`);

const root = () => clientFor(KeyAdminService, srv.url, srv.adminKey);
const series = (key: string) => clientFor(TimeSeriesService, srv.url, key);

/** A fresh admin key restricted to every KeyAdminService method and ListSeries: 30 days, 1000/min. */
async function delegate() {
  const { key, rawKey } = await root().createKey({
    name: "delegate",
    role: Role.ADMIN,
    allowedMethods: [...adminMethods, listSeries],
    expiresInDays: 30,
    rateLimit: 1000,
  });
  return { id: key?.id ?? "", key, rawKey, client: clientFor(KeyAdminService, srv.url, rawKey) };
}

/** Every key and user of the tenant, as the unrestricted admin sees them (last use aside). */
async function tenantState() {
  const { keys } = await root().listKeys({ pageSize: 1000 });
  const { users } = await root().listUsers({ includeInactive: true, pageSize: 1000 });
  const text = JSON.stringify({ keys: keys.map(({ lastUsedAt: _, ...k }) => k), users }, (_k, v) =>
    typeof v === "bigint" ? v.toString() : v,
  );
  return JSON.parse(text) as unknown;
}

/** Runs a call that must be refused as PermissionDenied and must leave the tenant as it was. */
async function refusedWithoutWrites(call: () => Promise<unknown>): Promise<ConnectError> {
  const before = await tenantState();
  const err = await failure(call());
  expect(err.code).toBe(Code.PermissionDenied);
  expect(await tenantState()).toEqual(before);
  return err;
}

describe("a restricted admin key mints nothing beyond itself", () => {
  it("refuses a key that never expires, expires later, or has a higher rate limit (explicit or the default)", async () => {
    const me = await delegate();
    const within = { name: "minted", role: Role.READ, allowedMethods: [listSeries] };
    const never = await refusedWithoutWrites(() =>
      me.client.createKey({ ...within, expiresInDays: 0, rateLimit: 10 }),
    );
    expect(never.rawMessage).toMatch(/^this key expires at \S+Z; it cannot grant a key that never expires$/);
    const later = await refusedWithoutWrites(() =>
      me.client.createKey({ ...within, expiresInDays: 31, rateLimit: 10 }),
    );
    expect(later.rawMessage).toMatch(
      /^this key expires at \S+Z; it cannot grant a key that expires later \(/,
    );
    const faster = await refusedWithoutWrites(() =>
      me.client.createKey({ ...within, expiresInDays: 7, rateLimit: 1001 }),
    );
    expect(faster.rawMessage).toBe(
      "this key may make 1000 requests per minute; it cannot grant a key that may make 1001",
    );
    const byDefault = await refusedWithoutWrites(() => me.client.createKey({ ...within, expiresInDays: 7 }));
    expect(byDefault.rawMessage).toBe(
      "this key may make 1000 requests per minute; it cannot grant a key that may make 100000 (the server default)",
    );
  });

  it("mints, changes and rotates keys within its role, allow-list, expiry and limit", async () => {
    const me = await delegate();
    const { key, rawKey } = await me.client.createKey({
      name: "minted",
      role: Role.READ,
      allowedMethods: [listSeries],
      expiresInDays: 29,
      rateLimit: 1000,
    });
    expect(key?.expiresAt?.seconds).toBeLessThan(me.key?.expiresAt?.seconds ?? 0n);
    await series(rawKey).listSeries({});
    const id = key?.id ?? "";
    expect((await me.client.setKeyRateLimit({ keyId: id, requestsPerMinute: 5 })).key?.rateLimit).toBe(5);
    expect((await me.client.setKeyRole({ keyId: id, role: Role.ADMIN })).key?.role).toBe(Role.ADMIN);
    const rotated = await me.client.rotateKey({ keyId: id });
    expect(rotated.key?.expiresAt).toEqual(key?.expiresAt);
    await me.client.revokeKey({ keyId: rotated.key?.id ?? "" });
  });

  it("cannot raise its own rate limit, nor clear it to a higher default; lowering it is fine", async () => {
    const me = await delegate();
    const higher = await refusedWithoutWrites(() =>
      me.client.setKeyRateLimit({ keyId: me.id, requestsPerMinute: 2000 }),
    );
    expect(higher.rawMessage).toBe(
      "this key may make 1000 requests per minute; it cannot grant a key that may make 2000",
    );
    await refusedWithoutWrites(() => me.client.setKeyRateLimit({ keyId: me.id, clear: true }));
    const lowered = await me.client.setKeyRateLimit({ keyId: me.id, requestsPerMinute: 900 });
    expect(lowered.key?.rateLimit).toBe(900);
  });

  it("cannot change, rotate or revoke a key that out-ranks it, and the key keeps working", async () => {
    const me = await delegate();
    const unrestricted = await root().createKey({ name: "unrestricted", role: Role.ADMIN });
    const revoke = await refusedWithoutWrites(() =>
      me.client.revokeKey({ keyId: unrestricted.key?.id ?? "" }),
    );
    expect(revoke.rawMessage).toBe(
      "this key is restricted to a method allow-list; it cannot revoke a key that has no method allow-list",
    );
    // Same role and allow-list as the delegate, but it never expires: it outlives the delegate.
    const lasting = await root().createKey({
      name: "lasting",
      role: Role.READ,
      allowedMethods: [listSeries],
      rateLimit: 10,
    });
    const lastingId = lasting.key?.id ?? "";
    for (const call of [
      () => me.client.revokeKey({ keyId: lastingId }),
      () => me.client.rotateKey({ keyId: lastingId }),
      () => me.client.setKeyRateLimit({ keyId: lastingId, requestsPerMinute: 1 }),
      () => me.client.setKeyRole({ keyId: lastingId, role: Role.READ }),
      () => me.client.setKeyAllowedMethods({ keyId: lastingId, methods: [listSeries] }),
    ]) {
      const err = await refusedWithoutWrites(call);
      expect(err.rawMessage).toMatch(
        /^this key expires at \S+Z; it cannot (revoke|rotate|change) a key that never expires$/,
      );
    }
    await series(lasting.rawKey).listSeries({});
    await clientFor(KeyAdminService, srv.url, unrestricted.rawKey).listKeys({});
  });
});

describe("a restricted admin key switches off no user who holds more than it", () => {
  /** A user whose one usable key is read-only, inside the delegate's allow-list, for a day at `rateLimit`. */
  async function userWithKey(email: string, rateLimit: number) {
    const { user, key: first } = await root().createUser({ email });
    // The first key (unrestricted, never expiring) is revoked: revoked keys are history and count for nothing.
    await root().revokeKey({ keyId: first?.id ?? "" });
    const { key, rawKey } = await root().createKey({
      name: email,
      role: Role.READ,
      allowedMethods: [listSeries],
      expiresInDays: 1,
      rateLimit,
      userId: user?.id ?? "",
    });
    return { userId: user?.id ?? "", keyId: key?.id ?? "", rawKey };
  }

  it("refuses to deactivate, activate or regenerate a user whose key out-ranks it; the user is untouched", async () => {
    const me = await delegate();
    const u = await userWithKey("fast@example.com", 5000);
    const ref = { case: "email" as const, value: "fast@example.com" };
    const off = await refusedWithoutWrites(() => me.client.deactivateUser({ user: ref }));
    expect(off.rawMessage).toBe(
      "this key may make 1000 requests per minute; it cannot deactivate user fast@example.com, who holds a key that may make 5000",
    );
    await series(u.rawKey).listSeries({});
    await refusedWithoutWrites(() => me.client.regenerateUserKey({ user: ref }));
    await series(u.rawKey).listSeries({});
    await root().deactivateUser({ user: ref });
    const on = await refusedWithoutWrites(() =>
      me.client.activateUser({ user: { case: "userId", value: u.userId } }),
    );
    expect(on.rawMessage).toMatch(/cannot activate user [0-9a-f-]{36}, who holds a key that may make 5000$/);
    expect((await failure(series(u.rawKey).listSeries({}))).code).toBe(Code.Unauthenticated);
  });

  it("refuses a user with an unrestricted key, and any new user (a first key has no allow-list)", async () => {
    const me = await delegate();
    await root().createUser({ email: "plain@example.com" });
    const ref = { case: "email" as const, value: "plain@example.com" };
    const err = await refusedWithoutWrites(() => me.client.deactivateUser({ user: ref }));
    expect(err.rawMessage).toContain("who holds a key that has no method allow-list");
    await refusedWithoutWrites(() => me.client.createUser({ email: "new@example.com", role: Role.READ }));
  });

  it("deactivates, activates and regenerates a user whose keys it covers", async () => {
    const me = await delegate();
    const u = await userWithKey("slow@example.com", 10);
    const ref = { case: "userId" as const, value: u.userId };
    expect((await me.client.deactivateUser({ user: ref })).user?.active).toBe(false);
    expect((await failure(series(u.rawKey).listSeries({}))).code).toBe(Code.Unauthenticated);
    expect((await me.client.activateUser({ user: ref })).user?.active).toBe(true);
    await series(u.rawKey).listSeries({});
    const regen = await me.client.regenerateUserKey({ user: ref });
    expect(regen.key?.rateLimit).toBe(10);
    await series(regen.rawKey).listSeries({});
  });
});

describe("an unrestricted admin keeps full power in its tenant", () => {
  it("mints never-expiring keys at any limit, raises limits, revokes admin keys and switches any user", async () => {
    const { key } = await root().createKey({ name: "big", role: Role.ADMIN, rateLimit: 1_000_000 });
    expect(key?.expiresAt).toBeUndefined();
    const id = key?.id ?? "";
    expect((await root().setKeyRateLimit({ keyId: id, clear: true })).key?.rateLimit).toBe(0);
    expect((await root().setKeyRateLimit({ keyId: id, requestsPerMinute: 999_999 })).key?.rateLimit).toBe(
      999_999,
    );
    expect((await root().revokeKey({ keyId: id })).key?.revokedAt).toBeDefined();
    const { user } = await root().createUser({ email: "boss@example.com", role: Role.ADMIN });
    const ref = { case: "userId" as const, value: user?.id ?? "" };
    expect((await root().deactivateUser({ user: ref })).user?.active).toBe(false);
    expect((await root().activateUser({ user: ref })).user?.active).toBe(true);
    await root().regenerateUserKey({ user: ref });
  });

  it("may revoke a restricted admin key", async () => {
    const me = await delegate();
    await root().revokeKey({ keyId: me.id });
    expect((await failure(me.client.listKeys({}))).code).toBe(Code.Unauthenticated);
  });
});

describe("tenant isolation under bounds", () => {
  it("another tenant's key or user answers a restricted key NotFound, byte-identical to a missing id", async () => {
    const me = await delegate();
    const b = await srv.newTenant();
    const bAdmin = clientFor(KeyAdminService, srv.url, b.adminKey);
    // Tenant B's key and user out-rank the delegate on every bound; a refusal would leak them.
    const bKey = await bAdmin.createKey({ name: "b-key", role: Role.ADMIN });
    const bUser = await bAdmin.createUser({ email: "b-bounds@example.com", role: Role.ADMIN });
    const foreignKey = bKey.key?.id ?? "";
    const foreignUser = bUser.user?.id ?? "";
    const missing = crypto.randomUUID();
    const rawCall = async (method: string, body: object) => {
      const res = await fetch(`${srv.url}/tdb.v1.KeyAdminService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": me.rawKey },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.text() };
    };
    const keyCalls: [string, (id: string) => object][] = [
      ["RevokeKey", (id) => ({ keyId: id })],
      ["RotateKey", (id) => ({ keyId: id })],
      ["SetKeyRole", (id) => ({ keyId: id, role: "ROLE_READ" })],
      ["SetKeyAllowedMethods", (id) => ({ keyId: id, methods: [listSeries] })],
      ["SetKeyRateLimit", (id) => ({ keyId: id, requestsPerMinute: 1 })],
    ];
    for (const [method, body] of keyCalls) {
      const foreign = await rawCall(method, body(foreignKey));
      const absent = await rawCall(method, body(missing));
      expect(foreign.status).toBe(404);
      expect(foreign.body.replace(foreignKey, "ID")).toBe(absent.body.replace(missing, "ID"));
    }
    for (const method of ["DeactivateUser", "ActivateUser", "RegenerateUserKey"]) {
      const foreign = await rawCall(method, { userId: foreignUser });
      const absent = await rawCall(method, { userId: missing });
      expect(foreign.status).toBe(404);
      expect(foreign.body.replace(foreignUser, "ID")).toBe(absent.body.replace(missing, "ID"));
    }
    const still = await bAdmin.getKey({ keyId: foreignKey });
    expect(still.key?.revokedAt).toBeUndefined();
    expect(still.key?.rateLimit).toBe(0);
    await clientFor(TimeSeriesService, srv.url, bUser.rawKey).listSeries({});
  });
});
