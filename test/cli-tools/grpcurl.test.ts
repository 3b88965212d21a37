import path from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { findTool, type RunResult, repoRoot, requireTool, run } from "./tools.js";

// grpcurl is installed by scripts/setup-tools.sh (`go install …@<pinned>` into .bin/).
const grpcurl = findTool("grpcurl", [path.join(repoRoot, ".bin/grpcurl")]);
const hasGrpcurl = requireTool("grpcurl", grpcurl);

/** grpcurl exits with 64 + the gRPC status code when the RPC fails. */
const exitFor = (code: Code) => 64 + code;

interface KeyJson {
  key: { id: string; name: string; keyPrefix: string; role: string; revokedAt?: string };
  rawKey?: string;
}

describe.skipIf(!hasGrpcurl)("grpcurl (gRPC over h2c, reflection)", () => {
  let srv: TestServer;
  let address: string;
  beforeAll(async () => {
    srv = await startTestServer();
    address = `127.0.0.1:${srv.port}`;
  });
  afterAll(async () => {
    await srv?.close();
  });

  /** grpcurl -plaintext [-H x-api-key] [-d json] address …rest */
  function grpc(rest: string[], opts: { key?: string; data?: unknown } = {}): Promise<RunResult> {
    const args = ["-plaintext"];
    if (opts.key) args.push("-H", `x-api-key: ${opts.key}`);
    if (opts.data !== undefined) args.push("-d", JSON.stringify(opts.data));
    return run(grpcurl as string, [...args, address, ...rest]);
  }

  async function ok<T>(rest: string[], opts: { key?: string; data?: unknown } = {}): Promise<T> {
    const r = await grpc(rest, opts);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as T;
  }

  it("lists the services via reflection, without a key", async () => {
    const r = await grpc(["list"]);
    expect(r.code).toBe(0);
    const services = r.stdout.trim().split("\n");
    expect(services).toEqual(
      expect.arrayContaining(["tdb.v1.TimeSeriesService", "tdb.v1.KeyAdminService", "grpc.health.v1.Health"]),
    );
  });

  it("describes Upload as a client-streaming method with its required role", async () => {
    const r = await grpc(["describe", "tdb.v1.TimeSeriesService.Upload"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("tdb.v1.TimeSeriesService.Upload is a method:");
    expect(r.stdout).toContain(
      "rpc Upload ( stream .tdb.v1.UploadRequest ) returns ( .tdb.v1.UploadResponse )",
    );
    expect(r.stdout).toContain("ROLE_READWRITE");
  });

  it("describes a request message from reflection", async () => {
    const r = await grpc(["describe", "tdb.v1.CreateKeyRequest"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/string name = 1;/);
    expect(r.stdout).toMatch(/\.tdb\.v1\.Role role = 2;/);
  });

  it("answers health checks without a key", async () => {
    const res = await ok<{ status: string }>(["grpc.health.v1.Health/Check"]);
    expect(res.status).toBe("SERVING");
  });

  it("refuses an admin call without a key as Unauthenticated", async () => {
    const r = await grpc(["tdb.v1.KeyAdminService/ListKeys"]);
    expect(r.code).toBe(exitFor(Code.Unauthenticated));
    expect(r.stderr).toMatch(/Code: Unauthenticated/);
    expect(r.stderr).toMatch(/API key required/);
  });

  it("creates a key with an admin key; the new key works with its role", async () => {
    const created = await ok<KeyJson>(["tdb.v1.KeyAdminService/CreateKey"], {
      key: srv.adminKey,
      data: { name: "grpcurl reader", role: "ROLE_READ" },
    });
    expect(created.rawKey).toMatch(/^tdbk_/);
    expect(created.key.name).toBe("grpcurl reader");
    expect(created.key.role).toBe("ROLE_READ");
    expect(created.rawKey?.startsWith(created.key.keyPrefix)).toBe(true);

    const listed = await ok<{ series?: unknown[] }>(["tdb.v1.TimeSeriesService/ListSeries"], {
      key: created.rawKey,
    });
    expect(listed.series ?? []).toEqual([]);
    const write = await grpc(["tdb.v1.TimeSeriesService/CreateSeries"], {
      key: created.rawKey,
      data: { name: "not_allowed" },
    });
    expect(write.code).toBe(exitFor(Code.PermissionDenied));
  });

  it("revokes a key; the next request with it is Unauthenticated, a second revoke NotFound", async () => {
    const created = await ok<KeyJson>(["tdb.v1.KeyAdminService/CreateKey"], {
      key: srv.adminKey,
      data: { name: "grpcurl doomed", role: "ROLE_READ" },
    });
    await ok(["tdb.v1.TimeSeriesService/ListSeries"], { key: created.rawKey });

    const revoked = await ok<KeyJson>(["tdb.v1.KeyAdminService/RevokeKey"], {
      key: srv.adminKey,
      data: { key_id: created.key.id },
    });
    expect(revoked.key.id).toBe(created.key.id);
    expect(revoked.key.revokedAt).toBeTruthy();

    const after = await grpc(["tdb.v1.TimeSeriesService/ListSeries"], { key: created.rawKey });
    expect(after.code).toBe(exitFor(Code.Unauthenticated));
    const again = await grpc(["tdb.v1.KeyAdminService/RevokeKey"], {
      key: srv.adminKey,
      data: { key_id: created.key.id },
    });
    expect(again.code).toBe(exitFor(Code.NotFound));
  });

  it("rotates a key: the old key stops at once, the new one works with the same name and role", async () => {
    const created = await ok<KeyJson>(["tdb.v1.KeyAdminService/CreateKey"], {
      key: srv.adminKey,
      data: { name: "grpcurl rotated", role: "ROLE_READWRITE" },
    });
    const rotated = await ok<KeyJson>(["tdb.v1.KeyAdminService/RotateKey"], {
      key: srv.adminKey,
      data: { key_id: created.key.id },
    });
    expect(rotated.rawKey).toMatch(/^tdbk_/);
    expect(rotated.rawKey).not.toBe(created.rawKey);
    expect([rotated.key.name, rotated.key.role]).toEqual(["grpcurl rotated", "ROLE_READWRITE"]);

    const old = await grpc(["tdb.v1.TimeSeriesService/ListSeries"], { key: created.rawKey });
    expect(old.code).toBe(exitFor(Code.Unauthenticated));
    await ok(["tdb.v1.TimeSeriesService/ListSeries"], { key: rotated.rawKey });

    const keys = await ok<{ keys: KeyJson["key"][] }>(["tdb.v1.KeyAdminService/ListKeys"], {
      key: srv.adminKey,
    });
    const named = keys.keys.filter((k) => k.name === "grpcurl rotated");
    expect(named.map((k) => Boolean(k.revokedAt))).toEqual([true, false]);
  });
});
