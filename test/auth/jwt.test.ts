import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createJwtVerifier, looksLikeJwt } from "../../src/auth/jwt.js";

const secret = "a-jwt-secret-of-at-least-32-characters!";
const hs = new TextEncoder().encode(secret);

function token(claims: Record<string, unknown>, exp: string | number | null = "5m") {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject("svc-1");
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(hs);
}

describe("JWT verifier", () => {
  const verify = createJwtVerifier({ secret, jwksFile: undefined });

  it("is off when neither a secret nor a JWKS file is configured", () => {
    expect(createJwtVerifier({ secret: undefined, jwksFile: undefined })).toBeUndefined();
  });

  it("accepts an HS256 token with tenant and role claims", async () => {
    const claims = await verify?.(await token({ tdb_tenant: "acme", tdb_role: "read" }));
    expect(claims).toEqual({ tenant: "acme", role: "read", subject: "svc-1", allowedMethods: [] });
  });

  it("carries an optional method allow-list", async () => {
    const t = await token({
      tdb_tenant: "acme",
      tdb_role: "admin",
      tdb_methods: ["tdb.v1.TimeSeriesService/ReadValues"],
    });
    expect((await verify?.(t))?.allowedMethods).toEqual(["tdb.v1.TimeSeriesService/ReadValues"]);
  });

  it.each([
    ["expired", () => token({ tdb_tenant: "acme", tdb_role: "read" }, Math.floor(Date.now() / 1000) - 60)],
    ["without exp", () => token({ tdb_tenant: "acme", tdb_role: "read" }, null)],
    ["without tenant", () => token({ tdb_role: "read" })],
    ["with an unknown role", () => token({ tdb_tenant: "acme", tdb_role: "owner" })],
    [
      "signed with another secret",
      () =>
        new SignJWT({ tdb_tenant: "acme", tdb_role: "admin" })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("5m")
          .sign(new TextEncoder().encode("another-secret-of-at-least-32-characters")),
    ],
    [
      "unsigned (alg none)",
      async () => `${b64({ alg: "none" })}.${b64({ tdb_tenant: "acme", tdb_role: "admin", exp: 9e9 })}.`,
    ],
    ["garbage", async () => "a.b.c"],
  ])("refuses a token %s", async (_what, make) => {
    expect(await verify?.(await make())).toBeUndefined();
  });

  it("verifies asymmetric tokens against a JWKS file", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    const file = path.join(tmpdir(), `tdb-jwks-${process.pid}.json`);
    await writeFile(file, JSON.stringify({ keys: [jwk] }));
    const v = createJwtVerifier({ secret: undefined, jwksFile: file });
    const t = await new SignJWT({ tdb_tenant: "t1", tdb_role: "readwrite" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setExpirationTime("5m")
      .sign(privateKey);
    expect((await v?.(t))?.role).toBe("readwrite");
    // An HS256 token is not accepted when only a JWKS is configured.
    expect(await v?.(await token({ tdb_tenant: "t1", tdb_role: "admin" }))).toBeUndefined();
  });

  it("refuses to start with an unreadable JWKS file", () => {
    expect(() => createJwtVerifier({ secret: undefined, jwksFile: "/nonexistent/jwks.json" })).toThrow(
      /invalid TDB_JWT_JWKS_FILE/,
    );
  });

  it("recognises the compact JWS shape only", () => {
    expect(looksLikeJwt("aaa.bbb.ccc")).toBe(true);
    expect(looksLikeJwt("tdbk_abc")).toBe(false);
  });
});

function b64(o: object): string {
  return Buffer.from(JSON.stringify(o)).toString("base64url");
}
