import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode } from "../../gen/tdb/v1/types_pb.js";
import { withTenant } from "../../src/store/tenant-tx.js";
import { clientFor } from "../helpers/clients.js";
import { readAll, us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let srv: TestServer;
let a: ReturnType<typeof clientFor<typeof TimeSeriesService>>;
let b: ReturnType<typeof clientFor<typeof TimeSeriesService>>;
let tenantB: string;
let keyB: string;
let seriesB: string;
const t = us("2024-01-01T00:00:00Z");

beforeAll(async () => {
  srv = await startTestServer();
  const other = await srv.newTenant();
  tenantB = other.tenantId;
  keyB = other.adminKey;
  a = clientFor(TimeSeriesService, srv.url, srv.adminKey);
  b = clientFor(TimeSeriesService, srv.url, keyB);
  await a.uploadBatch({
    header: { createMissingSeries: true, workflowId: "wf-a" },
    chunks: [{ series: { name: "shared_name" }, validTimes: [t], values: [1] }],
  });
  const up = await b.uploadBatch({
    header: { createMissingSeries: true, workflowId: "wf-b" },
    chunks: [{ series: { name: "shared_name" }, validTimes: [t], values: [2] }],
  });
  seriesB = up.seriesIds.shared_name ?? "";
  // A user in each tenant, so that every tenant table holds rows of both tenants.
  for (const tenant of [srv.tenantId, tenantB]) {
    await withTenant(srv.pool, tenant, (c) =>
      c.query("INSERT INTO users (tenant_id, email) VALUES ($1, 'someone@example.com')", [tenant]),
    );
  }
});
afterAll(async () => {
  await srv?.close();
});

/** The raw Connect response of a unary call, to compare errors byte for byte. */
async function raw(method: string, key: string, body: object): Promise<string> {
  const res = await fetch(`${srv.url}/tdb.v1.TimeSeriesService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify(body),
  });
  return `${res.status} ${await res.text()}`;
}

describe("another tenant's series id looks exactly like a missing one", () => {
  const calls: [string, (id: string) => object][] = [
    ["GetSeries", (id) => ({ seriesId: id })],
    ["DeleteSeries", (id) => ({ seriesId: id })],
    [
      "UpdateValues",
      (id) => ({ updates: [{ series: { seriesId: id }, validTime: t.toString(), value: 9 }] }),
    ],
    [
      "UploadBatch",
      (id) => ({
        header: {},
        chunks: [{ series: { seriesId: id }, validTimes: [t.toString()], values: [9] }],
      }),
    ],
  ];

  it.each(calls)(
    "%s answers byte-identically for B's id and for the same id once deleted",
    async (method, body) => {
      // A missing id and B's id, compared with the very same id: first while B owns it…
      const { series } = await b.createSeries({ name: `probe_${method}` });
      const id = series?.seriesId ?? "";
      const whileOwnedByB = await raw(method, srv.adminKey, body(id));
      // …then after B deleted it, when it is missing for everyone.
      await b.deleteSeries({ seriesId: id });
      const missing = await raw(method, srv.adminKey, body(id));
      expect(whileOwnedByB).toBe(missing);
      expect(whileOwnedByB).toMatch(/^(404|400) /);
    },
  );

  it("GetSeries of B's id is NotFound for A and works for B", async () => {
    const err = await a.getSeries({ seriesId: seriesB }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((await b.getSeries({ seriesId: seriesB })).series?.name).toBe("shared_name");
  });

  it("B's data survives A's attempts", async () => {
    const rows = await readAll(b, { seriesIds: [seriesB] });
    expect(rows.map((r) => r.value)).toEqual([2]);
  });
});

describe("lists and reads never show the other tenant", () => {
  it("ListSeries, ListRuns and ReadValues by name see one tenant's rows each", async () => {
    const seriesA = (await a.listSeries({})).series;
    const seriesOfB = (await b.listSeries({})).series;
    expect(seriesA.map((s) => s.seriesId)).not.toContain(seriesB);
    expect(seriesOfB.map((s) => s.seriesId)).toContain(seriesB);
    expect((await a.listRuns({})).runs.map((r) => r.workflowId)).toEqual(["wf-a"]);
    expect((await b.listRuns({})).runs.map((r) => r.workflowId)).toEqual(["wf-b"]);
    expect(
      (await readAll(a, { name: "shared_name", mode: ReadMode.ALL_VINTAGES })).map((r) => r.value),
    ).toEqual([1]);
    expect(await readAll(a, { seriesIds: [seriesB] })).toEqual([]);
  });

  it("same name and labels may exist once per tenant (uniqueness is per tenant)", async () => {
    await a.createSeries({ name: "per_tenant", labels: { x: "1" } });
    await b.createSeries({ name: "per_tenant", labels: { x: "1" } });
    const dup = await a
      .createSeries({ name: "per_tenant", labels: { x: "1" } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((dup as ConnectError).code).toBe(Code.AlreadyExists);
  });
});

describe("row-level security under the server's role", () => {
  const tables = ["tenants", "users", "api_keys", "series", "runs", "point_blocks", "rate_limit_counters"];

  it("an unfiltered SELECT on every tenant table sees only the current tenant's rows", async () => {
    for (const table of tables) {
      const column = table === "tenants" ? "id" : "tenant_id";
      const seen = await withTenant(srv.pool, tenantB, async (c) => {
        const { rows } = await c.query<{ owner: string }>(
          `SELECT DISTINCT ${column}::text AS owner FROM ${table}`,
        );
        return rows.map((r) => r.owner);
      });
      expect(seen, table).toEqual([tenantB]);
    }
    // The superuser sees both tenants in every table: the rows above were really filtered.
    for (const table of tables) {
      const column = table === "tenants" ? "id" : "tenant_id";
      const all = await srv.pool.query(`SELECT DISTINCT ${column} FROM ${table}`);
      expect(all.rowCount, table).toBeGreaterThanOrEqual(2);
    }
  });

  it("with no tenant set (or an empty one) the role sees nothing and cannot write", async () => {
    const client = await srv.pool.connect();
    try {
      for (const setting of [undefined, ""]) {
        await client.query("BEGIN");
        await client.query("SET LOCAL ROLE tdb_app");
        if (setting !== undefined)
          await client.query("SELECT set_config('tdb.tenant_id', $1, true)", [setting]);
        for (const table of tables) {
          const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
          expect(rows[0].n, `${table} with tenant ${String(setting)}`).toBe(0);
        }
        await expect(
          client.query("INSERT INTO series (tenant_id, name, kind) VALUES ($1, 'sneaky', 1)", [tenantB]),
        ).rejects.toThrow(/row-level security/);
        await client.query("ROLLBACK");
      }
    } finally {
      client.release();
    }
  });

  it("the server's role cannot bypass RLS and every tenant table forces it", async () => {
    const role = await srv.pool.query(
      "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'tdb_app'",
    );
    expect(role.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
    const rls = await srv.pool.query(
      "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1) ORDER BY relname",
      [tables],
    );
    expect(rls.rows).toHaveLength(tables.length);
    for (const r of rls.rows)
      expect([r.relname, r.relrowsecurity, r.relforcerowsecurity]).toEqual([r.relname, true, true]);
  });

  it("a tenant transaction cannot write rows for another tenant", async () => {
    await expect(
      withTenant(srv.pool, srv.tenantId, (c) =>
        c.query("INSERT INTO series (tenant_id, name, kind) VALUES ($1, 'forged', 1)", [tenantB]),
      ),
    ).rejects.toThrow(/row-level security/);
  });
});
