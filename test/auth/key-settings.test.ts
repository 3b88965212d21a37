import { describe, expect, it } from "vitest";
import { Role } from "../../gen/tdb/v1/options_pb.js";
import * as s from "../../src/auth/key-settings.js";
import { InvalidInputError } from "../../src/errors.js";

describe("key settings validation", () => {
  it("accepts and normalises good input", () => {
    expect(s.keyName("name", "  ci  ")).toBe("ci");
    expect(s.roleFrom("role", Role.UNSPECIFIED, "admin")).toBe("admin");
    expect(s.roleFrom("role", Role.READ, "admin")).toBe("read");
    expect(s.expiresInDays("d", 0)).toBeUndefined();
    expect(s.expiresInDays("d", 30)).toBe(30);
    expect(s.rateLimit("r", 0)).toBeUndefined();
    expect(s.email("email", " Bob@Example.COM ")).toBe("bob@example.com");
    expect(
      s.allowedMethods("m", [
        "tdb.v1.TimeSeriesService/ReadValues",
        "tdb.v1.KeyAdminService/GetKey",
        "tdb.v1.TimeSeriesService/ReadValues",
      ]),
    ).toEqual(["tdb.v1.KeyAdminService/GetKey", "tdb.v1.TimeSeriesService/ReadValues"]);
  });

  it("knows every method of both services", () => {
    expect(s.knownMethods.has("tdb.v1.TimeSeriesService/Upload")).toBe(true);
    expect(s.knownMethods.has("tdb.v1.KeyAdminService/RegenerateUserKey")).toBe(true);
    expect(s.knownMethods.has("grpc.health.v1.Health/Check")).toBe(false);
  });

  it.each([
    () => s.keyName("name", ""),
    () => s.expiresInDays("expires_in_days", 3651),
    () => s.expiresInDays("expires_in_days", 1.5),
    () => s.rateLimit("rate_limit", 1_000_001),
    () => s.roleNamed("role", "root"),
    () => s.email("email", "a b@c"),
    () => s.opaqueId("key_id", "x"),
    () => s.allowedMethods("allowed_methods", ["ReadValues"]),
  ])("refuses bad input with an InvalidInputError naming the field (%#)", (call) => {
    expect(call).toThrow(InvalidInputError);
  });
});
