import { describe, expect, it } from "vitest";
import { matchStaticKey, parseStaticKeys, StaticKeysError } from "../../src/auth/static-keys.js";

const secret = "s3cret-s3cret-s3cret-s3cret-s3cret";

describe("TDB_STATIC_KEYS", () => {
  it("parses name:tenant:role:secret entries; the secret may contain colons", () => {
    const keys = parseStaticKeys(`ci:default:readwrite:${secret}, ops:acme:admin:${secret}:with:colons`);
    expect(keys.map((k) => [k.name, k.tenant, k.role])).toEqual([
      ["ci", "default", "readwrite"],
      ["ops", "acme", "admin"],
    ]);
    expect(matchStaticKey(keys, `${secret}:with:colons`)?.name).toBe("ops");
    expect(matchStaticKey(keys, secret)?.name).toBe("ci");
  });

  it("matches nothing for a wrong, shorter or longer secret", () => {
    const keys = parseStaticKeys(`ci:default:read:${secret}`);
    expect(matchStaticKey(keys, `${secret}x`)).toBeUndefined();
    expect(matchStaticKey(keys, secret.slice(1))).toBeUndefined();
    expect(matchStaticKey(keys, "")).toBeUndefined();
    expect(matchStaticKey([], secret)).toBeUndefined();
  });

  it("keeps only digests, never the secret", () => {
    const keys = parseStaticKeys(`ci:default:read:${secret}`);
    expect(JSON.stringify(keys)).not.toContain(secret);
  });

  it.each([
    ["no secret", "ci:default:read"],
    ["short secret", "ci:default:read:short"],
    ["bad role", `ci:default:owner:${secret}`],
    ["empty tenant", `ci::read:${secret}`],
    ["bad name", `c i:default:read:${secret}`],
    ["duplicate name", `ci:a:read:${secret},ci:b:read:${secret}x`],
  ])("refuses %s with a message naming TDB_STATIC_KEYS", (_what, spec) => {
    expect(() => parseStaticKeys(spec)).toThrow(StaticKeysError);
    expect(() => parseStaticKeys(spec)).toThrow(/^invalid TDB_STATIC_KEYS/);
  });

  it("is empty when unset or blank", () => {
    expect(parseStaticKeys(undefined)).toEqual([]);
    expect(parseStaticKeys("  ")).toEqual([]);
  });
});
