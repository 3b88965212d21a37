import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { clientFor, failure } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ TDB_DEFAULT_RATE_LIMIT: "1000000" });
});
afterAll(async () => {
  await srv?.close();
});

const admin = () => clientFor(KeyAdminService, srv.url, srv.adminKey);
const series = (key: string) => clientFor(TimeSeriesService, srv.url, key);

describe("key lifecycle", () => {
  it("creates a key with role, expiry, limit and allow-list; the raw key works and is returned once", async () => {
    const before = Date.now();
    const { key, rawKey } = await admin().createKey({
      name: "pipeline",
      role: Role.READ,
      expiresInDays: 7,
      rateLimit: 500,
      allowedMethods: ["tdb.v1.TimeSeriesService/ListSeries"],
    });
    expect(rawKey).toMatch(/^tdbk_[0-9A-Za-z]{49}$/);
    expect(key?.keyPrefix).toBe(rawKey.slice(0, 12));
    expect(key?.role).toBe(Role.READ);
    expect(key?.rateLimit).toBe(500);
    expect(key?.allowedMethods).toEqual(["tdb.v1.TimeSeriesService/ListSeries"]);
    const expires = Number(key?.expiresAt?.seconds ?? 0n) * 1000;
    expect(expires - before).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(expires - before).toBeLessThan(7 * 86_400_000 + 60_000);
    await series(rawKey).listSeries({});
    const got = await admin().getKey({ keyId: key?.id ?? "" });
    expect(got.key?.name).toBe("pipeline");
    expect(JSON.stringify(got, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(
      rawKey.slice(12),
    );
  });

  it("defaults to an admin key that never expires and uses the server's rate limit", async () => {
    const { key } = await admin().createKey({ name: "defaults" });
    expect(key?.role).toBe(Role.ADMIN);
    expect(key?.expiresAt).toBeUndefined();
    expect(key?.rateLimit).toBe(0);
    expect(key?.allowedMethods).toEqual([]);
  });

  it("lists active, expired and revoked keys, never a raw key, in pages", async () => {
    const made = await Promise.all(
      ["l1", "l2", "l3"].map((name) => admin().createKey({ name, role: Role.READ })),
    );
    await admin().revokeKey({ keyId: made[0]?.key?.id ?? "" });
    await srv.pool.query("UPDATE api_keys SET expires_at = now() - interval '1 hour' WHERE id = $1", [
      made[1]?.key?.id,
    ]);
    const all = [];
    let pageToken = "";
    do {
      const page = await admin().listKeys({ pageSize: 2, pageToken });
      expect(page.keys.length).toBeLessThanOrEqual(2);
      all.push(...page.keys);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    const ids = all.map((k) => k.id);
    for (const m of made) expect(ids).toContain(m.key?.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(all.find((k) => k.id === made[0]?.key?.id)?.revokedAt).toBeDefined();
    const text = JSON.stringify(all, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    for (const m of made) expect(text).not.toContain(m.rawKey.slice(12));
    expect(text).not.toMatch(/tdbk_[0-9A-Za-z]{20,}/);
  });

  it("revokes at once; revoking twice is NotFound", async () => {
    const { key, rawKey } = await admin().createKey({ name: "short-lived", role: Role.READ });
    await series(rawKey).listSeries({});
    const revoked = await admin().revokeKey({ keyId: key?.id ?? "" });
    expect(revoked.key?.revokedAt).toBeDefined();
    const refused = await failure(series(rawKey).listSeries({}));
    expect(refused.code).toBe(Code.Unauthenticated);
    const again = await failure(admin().revokeKey({ keyId: key?.id ?? "" }));
    expect(again.code).toBe(Code.NotFound);
  });

  it("rotates keeping name, role, expiry (not extended), limit, allow-list and user; the old key stops at once", async () => {
    const { user } = await admin().createUser({ email: "rot@example.com" });
    const { key, rawKey } = await admin().createKey({
      name: "rotating",
      role: Role.READ,
      expiresInDays: 3,
      rateLimit: 77,
      allowedMethods: ["tdb.v1.TimeSeriesService/ListSeries", "tdb.v1.TimeSeriesService/GetSeries"],
      userId: user?.id ?? "",
    });
    await series(rawKey).listSeries({});
    const rotated = await admin().rotateKey({ keyId: key?.id ?? "" });
    expect(rotated.rawKey).not.toBe(rawKey);
    expect(rotated.key?.id).not.toBe(key?.id);
    expect(rotated.key?.name).toBe("rotating");
    expect(rotated.key?.role).toBe(Role.READ);
    expect(rotated.key?.expiresAt).toEqual(key?.expiresAt);
    expect(rotated.key?.rateLimit).toBe(77);
    expect(rotated.key?.allowedMethods).toEqual(key?.allowedMethods);
    expect(rotated.key?.userId).toBe(user?.id);
    expect((await failure(series(rawKey).listSeries({}))).code).toBe(Code.Unauthenticated);
    await series(rotated.rawKey).listSeries({});
    expect((await failure(admin().rotateKey({ keyId: key?.id ?? "" }))).code).toBe(Code.NotFound);
  });

  it("of two concurrent rotations exactly one wins; the other gets NotFound", async () => {
    for (let round = 0; round < 5; round++) {
      const { key } = await admin().createKey({ name: `race-${round}`, role: Role.READ });
      const results = await Promise.allSettled([
        admin().rotateKey({ keyId: key?.id ?? "" }),
        admin().rotateKey({ keyId: key?.id ?? "" }),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(ConnectError.from((lost[0] as PromiseRejectedResult).reason).code).toBe(Code.NotFound);
      const { rows } = await srv.pool.query(
        "SELECT count(*)::int AS n FROM api_keys WHERE name = $1 AND revoked_at IS NULL",
        [`race-${round}`],
      );
      expect(rows[0].n).toBe(1);
    }
  });

  it("refuses an expired key, and refuses to rotate it (the replacement would be born expired)", async () => {
    const { key, rawKey } = await admin().createKey({ name: "expiring", role: Role.READ, expiresInDays: 1 });
    await series(rawKey).listSeries({});
    await srv.pool.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [
      key?.id,
    ]);
    expect((await failure(series(rawKey).listSeries({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(admin().rotateKey({ keyId: key?.id ?? "" }))).code).toBe(Code.FailedPrecondition);
  });

  it("changes role, allow-list and rate limit with effect on the next request", async () => {
    const { key, rawKey } = await admin().createKey({ name: "changing", role: Role.READ });
    const id = key?.id ?? "";
    expect((await failure(series(rawKey).createSeries({ name: "nope" }))).code).toBe(Code.PermissionDenied);
    await admin().setKeyRole({ keyId: id, role: Role.READWRITE });
    await series(rawKey).createSeries({ name: "changing-1" });
    const restricted = await admin().setKeyAllowedMethods({
      keyId: id,
      methods: ["tdb.v1.TimeSeriesService/ListSeries"],
    });
    expect(restricted.key?.allowedMethods).toEqual(["tdb.v1.TimeSeriesService/ListSeries"]);
    expect((await failure(series(rawKey).createSeries({ name: "changing-2" }))).code).toBe(
      Code.PermissionDenied,
    );
    await series(rawKey).listSeries({});
    await admin().setKeyAllowedMethods({ keyId: id, clear: true });
    await series(rawKey).createSeries({ name: "changing-3" });
    expect((await admin().setKeyRateLimit({ keyId: id, requestsPerMinute: 5 })).key?.rateLimit).toBe(5);
    expect((await admin().setKeyRateLimit({ keyId: id, clear: true })).key?.rateLimit).toBe(0);
  });

  it("answers NotFound for changes to a revoked key", async () => {
    const { key } = await admin().createKey({ name: "gone", role: Role.READ });
    await admin().revokeKey({ keyId: key?.id ?? "" });
    for (const call of [
      () => admin().setKeyRole({ keyId: key?.id ?? "", role: Role.ADMIN }),
      () => admin().setKeyRateLimit({ keyId: key?.id ?? "", requestsPerMinute: 3 }),
      () => admin().setKeyAllowedMethods({ keyId: key?.id ?? "", clear: true }),
    ]) {
      expect((await failure(call())).code).toBe(Code.NotFound);
    }
  });
});

describe("input validation", () => {
  const cases: [string, () => Promise<unknown>, string][] = [
    ["empty name", () => admin().createKey({ name: " " }), "name"],
    ["long name", () => admin().createKey({ name: "x".repeat(101) }), "name"],
    ["negative expiry", () => admin().createKey({ name: "n", expiresInDays: -1 }), "expires_in_days"],
    ["negative rate limit", () => admin().createKey({ name: "n", rateLimit: -5 }), "rate_limit"],
    [
      "unknown method",
      () => admin().createKey({ name: "n", allowedMethods: ["tdb.v1.TimeSeriesService/Nope"] }),
      "allowed_methods[0]",
    ],
    ["unknown role", () => admin().createKey({ name: "n", role: 42 as Role }), "role"],
    ["malformed user id", () => admin().createKey({ name: "n", userId: "bob" }), "user_id"],
    ["malformed key id", () => admin().getKey({ keyId: "12" }), "key_id"],
    ["missing key id", () => admin().revokeKey({ keyId: "" }), "key_id"],
    ["unspecified role", () => admin().setKeyRole({ keyId: crypto.randomUUID() }), "role"],
    ["empty allow-list", () => admin().setKeyAllowedMethods({ keyId: crypto.randomUUID() }), "methods"],
    [
      "zero rate limit",
      () => admin().setKeyRateLimit({ keyId: crypto.randomUUID(), requestsPerMinute: 0 }),
      "requests_per_minute",
    ],
    ["bad email", () => admin().createUser({ email: "not-an-email" }), "email"],
    ["no user named", () => admin().deactivateUser({}), "user"],
    ["bad page token", () => admin().listKeys({ pageToken: "garbage" }), "page_token"],
  ];
  it.each(cases)("refuses %s with InvalidArgument naming the field", async (_what, call, field) => {
    const err = await failure(call());
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage.startsWith(`${field}: `)).toBe(true);
  });

  it("answers NotFound for a user id that does not exist", async () => {
    const err = await failure(admin().createKey({ name: "n", userId: crypto.randomUUID() }));
    expect(err.code).toBe(Code.NotFound);
  });
});

describe("users", () => {
  it("creates a user with a readwrite key; deactivation stops it at once, activation restores it", async () => {
    const { user, key, rawKey } = await admin().createUser({ email: "Ann@Example.com" });
    expect(user?.email).toBe("ann@example.com");
    expect(user?.active).toBe(true);
    expect(key?.role).toBe(Role.READWRITE);
    expect(key?.userId).toBe(user?.id);
    await series(rawKey).createSeries({ name: "ann-1" });
    await admin().deactivateUser({ user: { case: "email", value: "ANN@example.com" } });
    expect((await failure(series(rawKey).listSeries({}))).code).toBe(Code.Unauthenticated);
    const listed = await admin().listUsers({});
    expect(listed.users.map((u) => u.email)).not.toContain("ann@example.com");
    const all = await admin().listUsers({ includeInactive: true });
    expect(all.users.find((u) => u.email === "ann@example.com")?.active).toBe(false);
    await admin().activateUser({ user: { case: "userId", value: user?.id ?? "" } });
    await series(rawKey).listSeries({});
  });

  it("refuses a second user with the same email (any case) as AlreadyExists", async () => {
    await admin().createUser({ email: "dup@example.com" });
    expect((await failure(admin().createUser({ email: "DUP@example.com" }))).code).toBe(Code.AlreadyExists);
  });

  it("regenerates every usable key of a user: old keys refused, the new one works", async () => {
    const { user, rawKey: first } = await admin().createUser({ email: "regen@example.com", role: Role.READ });
    const second = await admin().createKey({ name: "regen-2", role: Role.READ, userId: user?.id ?? "" });
    const regen = await admin().regenerateUserKey({ user: { case: "email", value: "regen@example.com" } });
    expect(regen.key?.role).toBe(Role.READ);
    expect(regen.key?.name).toBe("regen@example.com");
    expect((await failure(series(first).listSeries({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(series(second.rawKey).listSeries({}))).code).toBe(Code.Unauthenticated);
    await series(regen.rawKey).listSeries({});
    const { rows } = await srv.pool.query(
      "SELECT count(*)::int AS n FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL",
      [user?.id],
    );
    expect(rows[0].n).toBe(2);
  });
});

describe("roles and privileges", () => {
  it("a read key cannot write; a readwrite key cannot reach KeyAdminService; an allow-listed key is refused other methods", async () => {
    const read = await admin().createKey({ name: "r", role: Role.READ });
    const rw = await admin().createKey({ name: "rw", role: Role.READWRITE });
    const listed = await admin().createKey({
      name: "only-get",
      role: Role.ADMIN,
      allowedMethods: ["tdb.v1.KeyAdminService/GetKey"],
    });
    await series(read.rawKey).listSeries({});
    expect((await failure(series(read.rawKey).createSeries({ name: "r-no" }))).code).toBe(
      Code.PermissionDenied,
    );
    await series(rw.rawKey).createSeries({ name: "rw-yes" });
    const rwAdmin = clientFor(KeyAdminService, srv.url, rw.rawKey);
    expect((await failure(rwAdmin.listKeys({}))).code).toBe(Code.PermissionDenied);
    expect((await failure(rwAdmin.setKeyRole({ keyId: rw.key?.id ?? "", role: Role.ADMIN }))).code).toBe(
      Code.PermissionDenied,
    );
    const listedAdmin = clientFor(KeyAdminService, srv.url, listed.rawKey);
    await listedAdmin.getKey({ keyId: listed.key?.id ?? "" });
    expect((await failure(listedAdmin.listKeys({}))).code).toBe(Code.PermissionDenied);
    expect((await failure(series(listed.rawKey).listSeries({}))).code).toBe(Code.PermissionDenied);
  });

  it("no key can raise its own role or widen its own allow-list", async () => {
    // The only keys that reach KeyAdminService are admin keys; a restricted admin key is
    // the one that could try to widen itself.
    const methods = [
      "tdb.v1.KeyAdminService/SetKeyRole",
      "tdb.v1.KeyAdminService/SetKeyAllowedMethods",
      "tdb.v1.KeyAdminService/CreateKey",
      "tdb.v1.KeyAdminService/RotateKey",
      "tdb.v1.TimeSeriesService/ListSeries",
    ];
    const self = await admin().createKey({ name: "self", role: Role.ADMIN, allowedMethods: methods });
    const me = clientFor(KeyAdminService, srv.url, self.rawKey);
    const id = self.key?.id ?? "";
    const widen = await failure(me.setKeyAllowedMethods({ keyId: id, clear: true }));
    expect(widen.code).toBe(Code.PermissionDenied);
    const more = await failure(
      me.setKeyAllowedMethods({ keyId: id, methods: [...methods, "tdb.v1.TimeSeriesService/DeleteSeries"] }),
    );
    expect(more.code).toBe(Code.PermissionDenied);
    expect((await failure(me.createKey({ name: "wider" }))).code).toBe(Code.PermissionDenied);
    const unrestricted = await admin().createKey({ name: "unrestricted", role: Role.ADMIN });
    expect((await failure(me.rotateKey({ keyId: unrestricted.key?.id ?? "" }))).code).toBe(
      Code.PermissionDenied,
    );
    // Narrowing itself is fine, and a read key it creates inside its own list works.
    await me.setKeyAllowedMethods({ keyId: id, methods: methods.slice(0, 4) });
    const stored = await admin().getKey({ keyId: id });
    expect(stored.key?.allowedMethods).toEqual([...methods.slice(0, 4)].sort());
  });
});

describe("tenant isolation", () => {
  it("an admin of tenant A cannot see or touch tenant B's keys or users: NotFound, byte-identical to a missing id", async () => {
    const b = await srv.newTenant();
    const bAdmin = clientFor(KeyAdminService, srv.url, b.adminKey);
    const bKey = await bAdmin.createKey({ name: "b-key", role: Role.READ });
    const bUser = await bAdmin.createUser({ email: "b@example.com" });
    const foreignKey = bKey.key?.id ?? "";
    const foreignUser = bUser.user?.id ?? "";
    const missing = crypto.randomUUID();

    const rawCall = async (method: string, body: object) => {
      const res = await fetch(`${srv.url}/tdb.v1.KeyAdminService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": srv.adminKey },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.text() };
    };
    const calls: [string, (id: string) => object][] = [
      ["GetKey", (id) => ({ keyId: id })],
      ["RevokeKey", (id) => ({ keyId: id })],
      ["RotateKey", (id) => ({ keyId: id })],
      ["SetKeyRole", (id) => ({ keyId: id, role: "ROLE_ADMIN" })],
      ["SetKeyAllowedMethods", (id) => ({ keyId: id, clear: true })],
      ["SetKeyRateLimit", (id) => ({ keyId: id, requestsPerMinute: 1 })],
    ];
    for (const [method, body] of calls) {
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
      const byEmail = await rawCall(method, { email: "b@example.com" });
      const noEmail = await rawCall(method, { email: "nobody@example.com" });
      expect(byEmail.status).toBe(404);
      expect(byEmail.body.replace("b@example.com", "E")).toBe(
        noEmail.body.replace("nobody@example.com", "E"),
      );
    }
    const keys = await admin().listKeys({ pageSize: 1000 });
    expect(keys.keys.map((k) => k.id)).not.toContain(foreignKey);
    const users = await admin().listUsers({ includeInactive: true, pageSize: 1000 });
    expect(users.users.map((u) => u.id)).not.toContain(foreignUser);
    expect((await failure(admin().createKey({ name: "x", userId: foreignUser }))).code).toBe(Code.NotFound);
    // Tenant B's key still works and is untouched.
    await clientFor(TimeSeriesService, srv.url, bKey.rawKey).listSeries({});
    const stillB = await bAdmin.getKey({ keyId: foreignKey });
    expect(stillB.key?.revokedAt).toBeUndefined();
    expect(stillB.key?.role).toBe(Role.READ);
  });
});
