import { describe, expect, it } from "vitest";
import { covers } from "../../src/auth/grant-bounds.js";

const list = "tdb.v1.TimeSeriesService/ListSeries";
const read = "tdb.v1.TimeSeriesService/ReadValues";

describe("grant bounds", () => {
  it("an unrestricted admin may grant any role and any allow-list", () => {
    const admin = { role: "admin" as const, allowedMethods: [] };
    expect(covers(admin, { role: "admin", allowedMethods: [] })).toBe(true);
    expect(covers(admin, { role: "read", allowedMethods: [list] })).toBe(true);
  });

  it("nobody grants a role above its own", () => {
    expect(covers({ role: "readwrite", allowedMethods: [] }, { role: "admin", allowedMethods: [] })).toBe(
      false,
    );
    expect(covers({ role: "read", allowedMethods: [] }, { role: "readwrite", allowedMethods: [] })).toBe(
      false,
    );
  });

  it("a restricted key grants only non-empty subsets of its allow-list", () => {
    const restricted = { role: "admin" as const, allowedMethods: [list, read] };
    expect(covers(restricted, { role: "read", allowedMethods: [list] })).toBe(true);
    expect(covers(restricted, { role: "read", allowedMethods: [list, read] })).toBe(true);
    expect(covers(restricted, { role: "read", allowedMethods: [] })).toBe(false);
    expect(covers(restricted, { role: "read", allowedMethods: ["tdb.v1.KeyAdminService/CreateKey"] })).toBe(
      false,
    );
  });
});
