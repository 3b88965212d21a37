import { Code, ConnectError } from "@connectrpc/connect";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/tdb/v1/key_admin_service_pb.js";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { generateApiKey } from "../../src/auth/api-key.js";
import { invalidCredentialMessage, missingCredentialMessage } from "../../src/auth/authenticate.js";
import { clientFor, protocols } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

const staticSecret = "static-secret-for-the-ci-pipeline-0001";
const jwtSecret = "jwt-secret-for-tests-at-least-32-characters";
const tenantName = `auth-${crypto.randomUUID().slice(0, 8)}`;

let srv: TestServer;
let tenantId: string;
let tenantAdmin: string;
beforeAll(async () => {
  srv = await startTestServer({
    TDB_DEFAULT_RATE_LIMIT: "100000",
    TDB_STATIC_KEYS: `ci:${tenantName}:readwrite:${staticSecret},ghost:no-such-tenant:admin:${staticSecret}-ghost`,
    TDB_JWT_SECRET: jwtSecret,
  });
  // The static key's tenant is created after the server started: it is resolved on use.
  ({ tenantId, adminKey: tenantAdmin } = await srv.newTenant(tenantName));
});
afterAll(async () => {
  await srv?.close();
});

function jwt(claims: Record<string, unknown>, exp: number | string = "5m"): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("pipeline")
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(jwtSecret));
}

/** A raw Connect call, to compare whole responses byte for byte. */
async function raw(key: string | undefined, method = "ListSeries", service = "tdb.v1.TimeSeriesService") {
  const res = await fetch(`${srv.url}/${service}/${method}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: "{}",
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe("authentication", () => {
  it("refuses unknown, malformed, expired, revoked and deactivated-user keys and bad JWTs with one identical answer", async () => {
    const admin = clientFor(KeyAdminService, srv.url, srv.adminKey);
    const expired = await admin.createKey({ name: "expired", role: Role.READ, expiresInDays: 1 });
    await srv.pool.query("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", [
      expired.key?.id,
    ]);
    const revoked = await admin.createKey({ name: "revoked", role: Role.READ });
    await admin.revokeKey({ keyId: revoked.key?.id ?? "" });
    const user = await admin.createUser({ email: "gone@example.com" });
    await admin.deactivateUser({ user: { case: "email", value: "gone@example.com" } });
    const good = generateApiKey();
    const badChecksum = `${good.slice(0, -1)}${good.endsWith("A") ? "B" : "A"}`;

    const bad: [string, string][] = [
      ["unknown", generateApiKey()],
      ["malformed", "tdbk_short"],
      ["bad checksum", badChecksum],
      ["not a key at all", "hello"],
      ["expired", expired.rawKey],
      ["revoked", revoked.rawKey],
      ["deactivated user", user.rawKey],
      [
        "expired JWT",
        await jwt({ tdb_tenant: tenantId, tdb_role: "admin" }, Math.floor(Date.now() / 1000) - 5),
      ],
      ["JWT of an unknown tenant", await jwt({ tdb_tenant: "no-such-tenant", tdb_role: "admin" })],
      ["static key of an unknown tenant", `${staticSecret}-ghost`],
    ];
    const answers = await Promise.all(bad.map(([, key]) => raw(key)));
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, bad[i]?.[0]).toBe(401);
      expect(answer.body, bad[i]?.[0]).toBe(answers[0]?.body);
    }
    expect(JSON.parse(answers[0]?.body ?? "{}")).toEqual({
      code: "unauthenticated",
      message: invalidCredentialMessage,
    });
  });

  it.each(protocols)("asks for a key when there is none (%s)", async (protocol) => {
    const err = await clientFor(TimeSeriesService, srv.url, undefined, protocol)
      .listSeries({})
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toBe(missingCredentialMessage);
  });

  it("accepts a static key in its tenant, with its role, without rate-limit headers", async () => {
    await clientFor(TimeSeriesService, srv.url, tenantAdmin).createSeries({ name: "static-visible" });
    const res = await raw(staticSecret);
    expect(res.status).toBe(200);
    expect(res.body).toContain("static-visible");
    expect(res.headers.get("x-ratelimit-limit")).toBeNull();
    const admin = await raw(staticSecret, "ListKeys", "tdb.v1.KeyAdminService");
    expect(admin.status).toBe(403);
  });

  it("accepts a JWT with tenant (id or name) and role claims, without rate-limit headers", async () => {
    for (const tenant of [tenantId, tenantName]) {
      const token = await jwt({ tdb_tenant: tenant, tdb_role: "read" });
      const res = await raw(token);
      expect(res.status).toBe(200);
      expect(res.body).toContain("static-visible");
      expect(res.headers.get("x-ratelimit-limit")).toBeNull();
      const write = await clientFor(TimeSeriesService, srv.url, token)
        .createSeries({ name: "jwt-no" })
        .catch((e: unknown) => ConnectError.from(e));
      expect((write as ConnectError).code).toBe(Code.PermissionDenied);
    }
    const adminToken = await jwt({ tdb_tenant: tenantId, tdb_role: "admin" });
    const keys = await clientFor(KeyAdminService, srv.url, adminToken).listKeys({});
    expect(keys.keys.length).toBeGreaterThan(0);
  });

  it("lets health and reflection through without a key", async () => {
    const res = await fetch(`${srv.url}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
  });
});
