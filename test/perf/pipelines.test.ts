import { create, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ReadValuesResponseSchema,
  TimeSeriesService,
  type UploadRequest,
  UploadRequestSchema,
} from "../../gen/tdb/v1/time_series_service_pb.js";
import { PointChunkSchema, ReadMode, SeriesKind } from "../../gen/tdb/v1/types_pb.js";
import { Mode, planSettings, type ReadFilter, readSql } from "../../src/store/read-values.js";
import { clientFor } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

// Correctness of the bulk paths at size (not timed): 1 M points through Upload and back,
// uploads that fail midway leave nothing, and a reader that stops reading stops the server
// from reading PostgreSQL.

let srv: TestServer;
let tenant: { tenantId: string; adminKey: string };
const seriesCount = 500;
const pointsPerSeries = 2000;
const total = seriesCount * pointsPerSeries;
const t0 = 1_767_225_600_000_000n;
const hour = 3_600_000_000n;

const name = (i: number) => `perf_${String(i).padStart(4, "0")}`;
const value = (i: number, j: number) => i * 10_000 + j + 0.25;

/** The Upload stream: header, then messages of `perMessage` series chunks. */
async function* uploadMessages(opts: {
  series: number;
  perMessage?: number;
  /** Called before each data message (index from 0); may throw or alter the message. */
  before?: (message: number, req: UploadRequest) => Promise<void> | void;
}): AsyncGenerator<UploadRequest> {
  yield create(UploadRequestSchema, {
    header: { workflowId: "perf", createMissingSeries: true, newSeriesKind: SeriesKind.FORECAST },
  });
  const times: bigint[] = [];
  for (let j = 0; j < pointsPerSeries; j++) times.push(t0 + BigInt(j) * hour);
  const per = opts.perMessage ?? 5;
  let message = 0;
  for (let i = 0; i < opts.series; i += per) {
    const req = create(UploadRequestSchema, {});
    for (let k = i; k < Math.min(opts.series, i + per); k++) {
      const values = times.map((_, j) => value(k, j));
      req.chunks.push(create(PointChunkSchema, { series: { name: name(k) }, validTimes: times, values }));
    }
    await opts.before?.(message++, req);
    yield req;
  }
}

async function storedFor(tenantId: string): Promise<{ runs: number; points: number }> {
  const { rows } = await srv.pool.query<{ runs: number; points: number }>(
    `SELECT (SELECT count(*)::int FROM runs WHERE tenant_id = $1) AS runs,
            (SELECT COALESCE(sum(n), 0)::int FROM point_blocks WHERE tenant_id = $1) AS points`,
    [tenantId],
  );
  return rows[0] as { runs: number; points: number };
}

/** Waits until no backend of the test database is still in a transaction (the upload's rollback). */
async function settled(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await srv.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`,
    );
    if (rows[0]?.n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("an upload transaction is still open");
}

beforeAll(async () => {
  srv = await startTestServer();
  tenant = await srv.newTenant();
}, 300_000);
afterAll(async () => {
  await srv?.close();
});

describe("bulk pipelines at size", () => {
  it("stores a 1 M-point streamed upload and reads it back equal", async () => {
    const client = clientFor(TimeSeriesService, srv.url, tenant.adminKey, "grpc");
    const res = await client.upload(uploadMessages({ series: seriesCount }));
    expect(res.pointCount).toBe(BigInt(total));
    expect(Object.keys(res.seriesIds)).toHaveLength(seriesCount);
    const ids = new Map(Object.entries(res.seriesIds).map(([k, id]) => [id, Number(k.slice(5))]));

    const seen = new Map<number, number>();
    let mismatches = 0;
    for await (const msg of client.readValues({ mode: ReadMode.LATEST })) {
      for (const c of msg.chunks) {
        const i = ids.get(c.series?.seriesId ?? "");
        expect(i).toBeDefined();
        let next = seen.get(i as number) ?? 0;
        for (let k = 0; k < c.validTimes.length; k++, next++) {
          if (c.validTimes[k] !== t0 + BigInt(next) * hour || c.values[k] !== value(i as number, next))
            mismatches++;
        }
        seen.set(i as number, next);
      }
    }
    expect(mismatches).toBe(0);
    expect(seen.size).toBe(seriesCount);
    expect([...seen.values()].every((n) => n === pointsPerSeries)).toBe(true);
  });

  it("plans every read mode as an index scan of point_blocks_key, without a Sort", async () => {
    await srv.pool.query("ANALYZE point_blocks");
    const c = await srv.pool.connect();
    try {
      await c.query(
        `BEGIN; SET LOCAL ROLE tdb_app; SELECT set_config('tdb.tenant_id', '${tenant.tenantId}', true)`,
      );
      await c.query(planSettings);
      const plans: string[] = [];
      const filters: ReadFilter[] = [
        { mode: Mode.Latest, seriesIds: [], name: "", labels: {} },
        { mode: Mode.Latest, seriesIds: [], name: name(7), labels: {} },
        {
          mode: Mode.Latest,
          seriesIds: [],
          name: "",
          labels: {},
          startValidUs: t0,
          endValidUs: t0 + 100n * hour,
        },
        { mode: Mode.AsOf, seriesIds: [], name: "", labels: {}, asOfUs: t0 },
        { mode: Mode.AllVintages, seriesIds: [], name: "", labels: { k: "v" }, startKnownUs: t0 },
        { mode: Mode.Corrections, seriesIds: [7n], name: "", labels: {} },
      ];
      for (const filter of filters) {
        const { rows } = await c.query<{ "QUERY PLAN": string }>(`EXPLAIN ${readSql(filter)}`);
        plans.push(rows.map((r) => r["QUERY PLAN"]).join("\n"));
      }
      for (const plan of plans) {
        expect(plan).toMatch(/^Index Scan using point_blocks_key on point_blocks/);
        expect(plan).not.toMatch(/Sort/);
      }
    } finally {
      await c.query("ROLLBACK");
      c.release();
    }
  });

  it("a slow reader stops the server from reading PostgreSQL ahead", async () => {
    const client = clientFor(TimeSeriesService, srv.url, tenant.adminKey, "grpc");
    const stream = client.readValues({ mode: ReadMode.LATEST, chunkSize: 1000 })[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.done).toBe(false);
    // The client now stops reading. Wait until the server's COPY stops advancing (the
    // sockets and HTTP/2 windows are full), then look at how far PostgreSQL got.
    let last = -1;
    let stable = 0;
    let processed = 0;
    for (let i = 0; i < 300 && stable < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { rows } = await srv.pool.query<{ n: string }>(
        `SELECT tuples_processed::text AS n FROM pg_stat_progress_copy
          WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND command = 'COPY TO'`,
      );
      processed = Number(rows[0]?.n ?? -1);
      stable = processed === last ? stable + 1 : 0;
      last = processed;
    }
    expect(processed).toBeGreaterThan(0); // the read's COPY is still open, paused
    // Buffers in flight (socket buffers, one HTTP/2 window, one batch) hold a small part of
    // the result; an unbounded server would have read all 1 M rows by now.
    expect(processed).toBeLessThan(total / 4);

    let received = 0;
    for (const c of first.value?.chunks ?? []) received += c.validTimes.length;
    for (let r = await stream.next(); !r.done; r = await stream.next())
      for (const c of r.value.chunks) received += c.validTimes.length;
    expect(received).toBe(total);
  });

  it("encodes read chunks identically for binary (pre-encoded) and JSON clients, extras included", async () => {
    const t = await srv.newTenant();
    const grpc = clientFor(TimeSeriesService, srv.url, t.adminKey, "grpc");
    const json = clientFor(TimeSeriesService, srv.url, t.adminKey, "connect");
    const times = [-86_400_000_000n, 0n, t0, t0 + hour, t0 + 2n * hour];
    await grpc.uploadBatch({
      header: { workflowId: "extras", createMissingSeries: true },
      chunks: [
        {
          series: { name: "extras", labels: { k: "v" } },
          validTimes: times,
          values: [1.5, -2, 0, 1e300, 5e-324],
          nulls: [false, false, true, false, false],
          validTimeEnds: [0n, hour, 0n, t0 + 2n * hour, 0n],
          annotations: ["", "é ✓", "", "note", ""],
          tags: [{ values: [] }, { values: ["a", "b"] }, { values: [] }, { values: ["c"] }, { values: [] }],
          metadata: [{}, { x: 1, y: [true, null, "s"] }, {}, { z: { n: 2 } }, {}],
        },
        { series: { name: "plain" }, validTimes: times, values: [1, 2, 3, 4, 5] },
      ],
    });
    for (const mode of [ReadMode.LATEST, ReadMode.ALL_VINTAGES, ReadMode.CORRECTIONS]) {
      const read = async (client: typeof grpc) => {
        const out: unknown[] = [];
        for await (const res of client.readValues({ mode, chunkSize: 3 }))
          out.push(toJson(ReadValuesResponseSchema, res));
        return out;
      };
      const a = await read(grpc);
      expect(a).toEqual(await read(json));
      expect(JSON.stringify(a)).toContain("é ✓");
    }
  });

  it("a reader that cancels mid-result frees the server's connection and the next read works", async () => {
    const client = clientFor(TimeSeriesService, srv.url, tenant.adminKey, "grpc");
    for (let k = 0; k < 3; k++) {
      const abort = new AbortController();
      let got = 0;
      await (async () => {
        for await (const res of client.readValues({ mode: ReadMode.LATEST }, { signal: abort.signal })) {
          got += res.chunks.length;
          abort.abort();
        }
      })().catch(() => {});
      expect(got).toBeGreaterThan(0);
    }
    // No read is left running in PostgreSQL, and the server still answers reads in full.
    for (let i = 0; i < 100; i++) {
      const { rows } = await srv.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'COPY (SELECT%' AND state <> 'idle'`,
      );
      if (rows[0]?.n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await srv.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'COPY (SELECT%' AND state <> 'idle'`,
    );
    expect(rows[0]?.n).toBe(0);
    let n = 0;
    for await (const res of client.readValues({ mode: ReadMode.LATEST, name: name(3) }))
      for (const c of res.chunks) n += c.validTimes.length;
    expect(n).toBe(pointsPerSeries);
  });

  it("refuses a duplicate valid time when one series is named by id and by name in one upload", async () => {
    const t = await srv.newTenant();
    const client = clientFor(TimeSeriesService, srv.url, t.adminKey, "grpc");
    const { series } = await client.createSeries({ name: "twice" });
    const err = await client
      .uploadBatch({
        header: { workflowId: "dup" },
        chunks: [
          { series: { seriesId: series?.seriesId }, validTimes: [t0, t0 + hour], values: [1, 2] },
          { series: { name: "twice" }, validTimes: [t0 + hour], values: [3] },
        ],
      })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/duplicate valid time .* for series twice in one upload/);
    expect(await storedFor(t.tenantId)).toEqual({ runs: 0, points: 0 });
  });

  it("an upload with a bad chunk midway stores nothing (no run, no points)", async () => {
    const t = await srv.newTenant();
    const client = clientFor(TimeSeriesService, srv.url, t.adminKey, "grpc");
    const err = await client
      .upload(
        uploadMessages({
          series: 200,
          before: (m, req) => {
            if (m === 20 && req.chunks[2]) req.chunks[2].values[1234] = Number.NaN;
          },
        }),
      )
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.rawMessage).toMatch(/values\[1234\]/);
    await settled();
    expect(await storedFor(t.tenantId)).toEqual({ runs: 0, points: 0 });
  });

  it("an upload the client aborts midway stores nothing (no run, no points)", async () => {
    const t = await srv.newTenant();
    const client = clientFor(TimeSeriesService, srv.url, t.adminKey, "grpc");
    const abort = new AbortController();
    const err = await client
      .upload(
        uploadMessages({
          series: 200,
          before: async (m) => {
            if (m === 20) {
              abort.abort();
              await new Promise((r) => setTimeout(r, 50));
            }
          },
        }),
        { signal: abort.signal },
      )
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err?.code).toBe(Code.Canceled);
    await settled();
    expect(await storedFor(t.tenantId)).toEqual({ runs: 0, points: 0 });
  });
});
