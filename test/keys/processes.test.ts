import { Code, ConnectError } from "@connectrpc/connect";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { createKey } from "../../src/store/keys-store.js";
import { withTenant } from "../../src/store/tenant-tx.js";
import { createTenant } from "../../src/store/tenants.js";
import { clientFor, failure } from "../helpers/clients.js";
import { rawKeysIn, type ServerProcess, spawnServer } from "../helpers/server-process.js";
import { freshDatabase } from "../helpers/test-server.js";
import { awayFromMinuteEnd, closeWindow, windowEnd } from "./helpers/minute.js";

// Two real server processes on one database: what one does, the other enforces on the
// very next request.
let db: Awaited<ReturnType<typeof freshDatabase>>;
let a: ServerProcess;
let b: ServerProcess;
let tenantId: string;
let adminKey: string;
const rawKeys: string[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  // A tenant before the servers start, so neither prints a bootstrap admin key.
  const t = await createTenant(db.pool, "processes");
  tenantId = t.tenant.id;
  adminKey = t.rawKey;
  rawKeys.push(adminKey);
  [a, b] = await Promise.all([
    spawnServer(db.url, { TDB_DEFAULT_RATE_LIMIT: "100000" }),
    spawnServer(db.url, { TDB_DEFAULT_RATE_LIMIT: "100000" }),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await db?.drop();
});

async function newKey(pool: pg.Pool, name: string, rateLimit?: number) {
  const issued = await withTenant(pool, tenantId, (c) =>
    createKey(c, tenantId, {
      name,
      role: "readwrite",
      expiresInDays: undefined,
      rateLimit,
      allowedMethods: [],
      userId: undefined,
    }),
  );
  rawKeys.push(issued.rawKey);
  return issued;
}

describe("two server processes on one database", () => {
  it("a key revoked on process A is refused on process B on the next request", async () => {
    const created = await clientFor(KeyAdminService, a.url, adminKey).createKey({
      name: "ab",
      role: Role.READ,
    });
    rawKeys.push(created.rawKey);
    await clientFor(TimeSeriesService, b.url, created.rawKey).listSeries({});
    await clientFor(KeyAdminService, a.url, adminKey).revokeKey({ keyId: created.key?.id ?? "" });
    const err = await failure(clientFor(TimeSeriesService, b.url, created.rawKey).listSeries({}));
    expect(err.code).toBe(Code.Unauthenticated);
  });

  it("a key rotated on B stops on A at once; the replacement works on A", async () => {
    const created = await clientFor(KeyAdminService, b.url, adminKey).createKey({
      name: "ba",
      role: Role.READ,
    });
    rawKeys.push(created.rawKey);
    await clientFor(TimeSeriesService, a.url, created.rawKey).listSeries({});
    const rotated = await clientFor(KeyAdminService, b.url, adminKey).rotateKey({
      keyId: created.key?.id ?? "",
    });
    rawKeys.push(rotated.rawKey);
    expect((await failure(clientFor(TimeSeriesService, a.url, created.rawKey).listSeries({}))).code).toBe(
      Code.Unauthenticated,
    );
    await clientFor(TimeSeriesService, a.url, rotated.rawKey).listSeries({});
  });

  it("a user deactivated on A is refused on B; a role lowered on B applies on A", async () => {
    const u = await clientFor(KeyAdminService, a.url, adminKey).createUser({ email: "proc@example.com" });
    rawKeys.push(u.rawKey);
    await clientFor(TimeSeriesService, b.url, u.rawKey).createSeries({ name: "proc-1" });
    await clientFor(KeyAdminService, b.url, adminKey).setKeyRole({ keyId: u.key?.id ?? "", role: Role.READ });
    expect(
      (await failure(clientFor(TimeSeriesService, a.url, u.rawKey).createSeries({ name: "p2" }))).code,
    ).toBe(Code.PermissionDenied);
    await clientFor(KeyAdminService, a.url, adminKey).deactivateUser({
      user: { case: "userId", value: u.user?.id ?? "" },
    });
    expect((await failure(clientFor(TimeSeriesService, b.url, u.rawKey).listSeries({}))).code).toBe(
      Code.Unauthenticated,
    );
  });

  it("with limit N, exactly N calls succeed per window across both processes; the N+1th is ResourceExhausted (HTTP 429) with the four headers; the window resets", async () => {
    const limit = 10;
    const { key, rawKey } = await newKey(db.pool, "limited", limit);
    await awayFromMinuteEnd(db.pool);
    const calls = Array.from({ length: limit + 6 }, (_, i) =>
      clientFor(TimeSeriesService, i % 2 === 0 ? a.url : b.url, rawKey)
        .listSeries({})
        .then(
          () => "ok",
          (e: unknown) => ConnectError.from(e).code,
        ),
    );
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(limit);
    expect(outcomes.filter((o) => o === Code.ResourceExhausted)).toHaveLength(6);

    const reset = await windowEnd(db.pool);
    for (const srv of [a, b]) {
      const res = await fetch(`${srv.url}/tdb.v1.TimeSeriesService/ListSeries`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": rawKey },
        body: "{}",
      });
      expect(res.status).toBe(429);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("resource_exhausted");
      expect(body.message).toMatch(/rate limit exceeded/);
      expect(res.headers.get("x-ratelimit-limit")).toBe(String(limit));
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(res.headers.get("x-ratelimit-reset")).toBe(String(reset));
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }

    // The next calendar minute, as the counter sees it: the same key may call again.
    await closeWindow(db.pool, key.id);
    const res = await fetch(`${b.url}/tdb.v1.TimeSeriesService/ListSeries`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": rawKey },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBe(String(limit));
    expect(res.headers.get("x-ratelimit-remaining")).toBe(String(limit - 1));
  });

  it("writes one JSON log line per call and never a raw key", async () => {
    const logs = a.output() + b.output();
    expect(logs).toMatch(/"method":"tdb.v1.TimeSeriesService\/ListSeries"/);
    expect(logs).toMatch(/"code":"ResourceExhausted"/);
    expect(rawKeys.length).toBeGreaterThan(5);
    for (const k of rawKeys) {
      expect(logs).not.toContain(k);
      expect(logs).not.toContain(k.slice(12));
    }
    expect(rawKeysIn(logs)).toEqual([]);
  });
});
