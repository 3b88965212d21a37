import { describe, expect, it } from "vitest";
import { covers, exceededBound, type Grantor, type Privileges } from "../../src/auth/grant-bounds.js";

const list = "tdb.v1.TimeSeriesService/ListSeries";
const read = "tdb.v1.TimeSeriesService/ReadValues";
const defaultLimit = 60;

/** A database key's principal: never expires, the server's default limit, unless given. */
function caller(p: Partial<Grantor> & Pick<Grantor, "role" | "allowedMethods">): Grantor {
  return { kind: "api_key", rateLimit: undefined, expiresAtUs: undefined, ...p };
}

/** A key that never expires and has the server's default limit, unless given. */
function key(p: Partial<Privileges> & Pick<Privileges, "role" | "allowedMethods">): Privileges {
  return { expiresAtUs: null, rateLimit: null, ...p };
}

const day = 86_400_000_000n;
const t0 = 1_800_000_000_000_000n;

describe("grant bounds", () => {
  it("an unrestricted admin may grant any role and any allow-list", () => {
    const admin = caller({ role: "admin", allowedMethods: [] });
    expect(covers(admin, key({ role: "admin", allowedMethods: [] }), defaultLimit)).toBe(true);
    expect(covers(admin, key({ role: "read", allowedMethods: [list] }), defaultLimit)).toBe(true);
  });

  it("nobody grants a role above its own", () => {
    expect(
      covers(
        caller({ role: "readwrite", allowedMethods: [] }),
        key({ role: "admin", allowedMethods: [] }),
        60,
      ),
    ).toBe(false);
    expect(
      covers(
        caller({ role: "read", allowedMethods: [] }),
        key({ role: "readwrite", allowedMethods: [] }),
        60,
      ),
    ).toBe(false);
  });

  it("a restricted key grants only non-empty subsets of its allow-list", () => {
    const restricted = caller({ role: "admin", allowedMethods: [list, read] });
    expect(covers(restricted, key({ role: "read", allowedMethods: [list] }), defaultLimit)).toBe(true);
    expect(covers(restricted, key({ role: "read", allowedMethods: [list, read] }), defaultLimit)).toBe(true);
    expect(covers(restricted, key({ role: "read", allowedMethods: [] }), defaultLimit)).toBe(false);
    expect(
      covers(restricted, key({ role: "read", allowedMethods: ["tdb.v1.KeyAdminService/CreateKey"] }), 60),
    ).toBe(false);
  });

  it("a restricted key that expires grants nothing that expires later or never", () => {
    const expiring = caller({ role: "admin", allowedMethods: [list], expiresAtUs: String(t0) });
    const at = (us: bigint) => key({ role: "read", allowedMethods: [list], expiresAtUs: String(us) });
    expect(covers(expiring, at(t0 - day), defaultLimit)).toBe(true);
    expect(covers(expiring, at(t0), defaultLimit)).toBe(true);
    expect(covers(expiring, at(t0 + 1n), defaultLimit)).toBe(false);
    expect(exceededBound(expiring, at(t0 + day), defaultLimit)).toEqual({
      held: "expires at 2027-01-15T08:00:00.000Z",
      wanted: "expires later (2027-01-16T08:00:00.000Z)",
    });
    expect(exceededBound(expiring, key({ role: "read", allowedMethods: [list] }), defaultLimit)).toEqual({
      held: "expires at 2027-01-15T08:00:00.000Z",
      wanted: "never expires",
    });
  });

  it("a restricted key grants no higher effective rate limit; unset means the server default", () => {
    const limited = caller({ role: "admin", allowedMethods: [list], rateLimit: 100 });
    const limit = (rateLimit: number | null) => key({ role: "read", allowedMethods: [list], rateLimit });
    expect(covers(limited, limit(100), defaultLimit)).toBe(true);
    expect(covers(limited, limit(null), defaultLimit)).toBe(true);
    expect(exceededBound(limited, limit(101), defaultLimit)).toEqual({
      held: "may make 100 requests per minute",
      wanted: "may make 101",
    });
    expect(exceededBound(limited, limit(null), 500)?.wanted).toBe("may make 500 (the server default)");
    const atDefault = caller({ role: "admin", allowedMethods: [list] });
    expect(covers(atDefault, limit(60), defaultLimit)).toBe(true);
    expect(covers(atDefault, limit(61), defaultLimit)).toBe(false);
  });

  it("an unrestricted admin is not bounded by its own expiry or limit", () => {
    const admin = caller({ role: "admin", allowedMethods: [], rateLimit: 5, expiresAtUs: String(t0) });
    expect(covers(admin, key({ role: "admin", allowedMethods: [], rateLimit: 1_000_000 }), 60)).toBe(true);
  });

  it("a restricted JWT keeps today's bounds: role and allow-list, no expiry or limit of its own", () => {
    const jwt = caller({ role: "admin", allowedMethods: [list], kind: "jwt" });
    expect(covers(jwt, key({ role: "read", allowedMethods: [list], rateLimit: 1_000_000 }), 60)).toBe(true);
    expect(covers(jwt, key({ role: "read", allowedMethods: [read] }), 60)).toBe(false);
  });
});
