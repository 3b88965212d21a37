import path from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { findTool, type RunResult, repoRoot, requireTool, run } from "./tools.js";

// `npx buf curl`: the buf CLI from the @bufbuild/buf devDependency.
const buf = findTool("buf", [path.join(repoRoot, "node_modules/.bin/buf")]);
const hasBuf = requireTool("buf", buf);

/** buf curl exits with the gRPC status code × 8 when the RPC fails. */
const exitFor = (code: Code) => code * 8;

interface KeyJson {
  key: { id: string; name: string; role: string; revokedAt?: string };
  rawKey: string;
}

describe.skipIf(!hasBuf)("buf curl with server reflection", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(async () => {
    await srv?.close();
  });

  describe.each(["grpcweb", "connect"] as const)("over --protocol %s (HTTP/1.1)", (protocol) => {
    function curl(
      target: string,
      opts: { key?: string; data?: unknown; stdin?: string; flags?: string[] } = {},
    ): Promise<RunResult> {
      const args = ["curl", "--protocol", protocol, ...(opts.flags ?? [])];
      if (opts.key) args.push("-H", `x-api-key: ${opts.key}`);
      if (opts.data !== undefined) args.push("-d", JSON.stringify(opts.data));
      if (opts.stdin !== undefined) args.push("-d", "@-");
      return run(buf as string, [...args, `${srv.url}${target}`], opts.stdin);
    }

    async function ok<T>(target: string, opts: { key?: string; data?: unknown; stdin?: string } = {}) {
      const r = await curl(target, opts);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as T;
    }

    it("lists services and methods", async () => {
      const services = await curl("", { flags: ["--list-services"] });
      expect(services.code).toBe(0);
      expect(services.stdout.trim().split("\n")).toEqual(
        expect.arrayContaining([
          "tdb.v1.TimeSeriesService",
          "tdb.v1.KeyAdminService",
          "grpc.health.v1.Health",
        ]),
      );
      const methods = await curl("", { flags: ["--list-methods"] });
      expect(methods.code).toBe(0);
      expect(methods.stdout.trim().split("\n")).toEqual(
        expect.arrayContaining([
          "tdb.v1.TimeSeriesService/Upload",
          "tdb.v1.KeyAdminService/CreateKey",
          "tdb.v1.KeyAdminService/RevokeKey",
          "tdb.v1.KeyAdminService/RotateKey",
        ]),
      );
    });

    it("refuses an admin call without a key as Unauthenticated", async () => {
      const r = await curl("/tdb.v1.KeyAdminService/ListKeys");
      expect(r.code).toBe(exitFor(Code.Unauthenticated));
      expect(r.stderr).toMatch(/"code": "unauthenticated"/);
    });

    it("creates a key with an admin key, then revokes it", async () => {
      const name = `buf curl ${protocol}`;
      const created = await ok<KeyJson>("/tdb.v1.KeyAdminService/CreateKey", {
        key: srv.adminKey,
        data: { name, role: "ROLE_READ" },
      });
      expect(created.rawKey).toMatch(/^tdbk_/);
      expect([created.key.name, created.key.role]).toEqual([name, "ROLE_READ"]);
      await ok("/tdb.v1.TimeSeriesService/ListSeries", { key: created.rawKey, data: {} });

      const revoked = await ok<KeyJson>("/tdb.v1.KeyAdminService/RevokeKey", {
        key: srv.adminKey,
        data: { keyId: created.key.id },
      });
      expect(revoked.key.revokedAt).toBeTruthy();
      const after = await curl("/tdb.v1.TimeSeriesService/ListSeries", { key: created.rawKey, data: {} });
      expect(after.code).toBe(exitFor(Code.Unauthenticated));
    });

    it("client-streams an Upload from stdin and server-streams the values back", async () => {
      const name = `buf_curl_${protocol}`;
      const messages = [
        { header: { workflowId: "buf-curl", createMissingSeries: true } },
        {
          chunks: [
            { series: { name }, validTimes: ["1700000000000000", "1700000001000000"], values: [1, 2] },
          ],
        },
        { chunks: [{ series: { name }, validTimes: ["1700000002000000"], values: [3] }] },
      ];
      const up = await ok<{ pointCount: string }>("/tdb.v1.TimeSeriesService/Upload", {
        key: srv.adminKey,
        stdin: messages.map((m) => JSON.stringify(m)).join("\n"),
      });
      expect(up.pointCount).toBe("3");

      const r = await curl("/tdb.v1.TimeSeriesService/ReadValues", { key: srv.adminKey, data: { name } });
      expect(r.code).toBe(0);
      // One JSON document per response message.
      const docs = r.stdout.split(/(?<=^\})\n/m).filter((d) => d.trim());
      const values = docs.flatMap(
        (d) => (JSON.parse(d) as { chunks?: { values: number[] }[] }).chunks?.flatMap((c) => c.values) ?? [],
      );
      expect(values).toEqual([1, 2, 3]);
    });
  });
});
