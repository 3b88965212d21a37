import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode, SeriesKind } from "../../gen/tdb/v1/types_pb.js";
import { apiKey, clientFor } from "../helpers/clients.js";
import { readAll, ts, us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let srv: TestServer;
let client: ReturnType<typeof clientFor<typeof TimeSeriesService>>;
const t = us("2024-05-01T00:00:00Z");
const h = 3_600_000_000n;

beforeAll(async () => {
  srv = await startTestServer();
  client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "connect");
});
afterAll(async () => {
  await srv?.close();
});

describe("series", () => {
  it("keeps name, labels, unit, description and kind", async () => {
    const { series } = await client.createSeries({
      name: "load",
      labels: { zone: "north", kind: "net" },
      unit: "MW",
      description: "net load",
      kind: SeriesKind.FORECAST,
    });
    const got = (await client.getSeries({ seriesId: series?.seriesId ?? "" })).series;
    expect([got?.name, got?.labels, got?.unit, got?.description, got?.kind]).toEqual([
      "load",
      { zone: "north", kind: "net" },
      "MW",
      "net load",
      SeriesKind.FORECAST,
    ]);
    expect(got?.createdAt?.seconds).toBeGreaterThan(0n);
  });

  it("refuses the same name and labels twice with AlreadyExists, but allows other labels", async () => {
    await client.createSeries({ name: "dup", labels: { a: "1" } });
    await client.createSeries({ name: "dup", labels: { a: "2" } });
    const err = await client
      .createSeries({ name: "dup", labels: { a: "1" } })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.AlreadyExists);
  });

  it("lists by name, label subset and unit, in pages", async () => {
    for (let i = 0; i < 5; i++)
      await client.createSeries({
        name: `page_${i}`,
        labels: { group: "paged", i: String(i) },
        unit: i % 2 ? "kW" : "MW",
      });
    const names = async (req: object) => (await client.listSeries(req)).series.map((s) => s.name);
    expect(await names({ labels: { group: "paged" } })).toEqual([
      "page_0",
      "page_1",
      "page_2",
      "page_3",
      "page_4",
    ]);
    expect(await names({ labels: { group: "paged" }, unit: "kW" })).toEqual(["page_1", "page_3"]);
    expect(await names({ name: "page_2" })).toEqual(["page_2"]);
    const seen: string[] = [];
    let token = "";
    let pages = 0;
    do {
      const res = await client.listSeries({ labels: { group: "paged" }, pageSize: 2, pageToken: token });
      seen.push(...res.series.map((s) => s.name));
      token = res.nextPageToken;
      pages++;
    } while (token !== "");
    expect(seen).toEqual(["page_0", "page_1", "page_2", "page_3", "page_4"]);
    expect(pages).toBe(3);
  });

  it("deletes a series with its values (admin)", async () => {
    const up = await client.uploadBatch({
      header: { createMissingSeries: true },
      chunks: [{ series: { name: "doomed" }, validTimes: [t, t + h], values: [1, 2] }],
    });
    const id = up.seriesIds.doomed ?? "";
    expect((await client.deleteSeries({ seriesId: id })).deletedValueCount).toBe(2n);
    expect(await readAll(client, { seriesIds: [id] })).toEqual([]);
    const { rows } = await srv.pool.query(
      "SELECT count(*)::int AS n FROM point_blocks WHERE series_id = $1",
      [id],
    );
    expect(rows[0].n).toBe(0);
    const again = await client.deleteSeries({ seriesId: id }).catch((e: unknown) => ConnectError.from(e));
    expect((again as ConnectError).code).toBe(Code.NotFound);
  });
});

describe("values", () => {
  it("round-trips nulls, interval ends, annotations, tags and metadata", async () => {
    const up = await client.uploadBatch({
      header: { createMissingSeries: true, newSeriesKind: SeriesKind.FORECAST },
      chunks: [
        {
          series: { name: "rich" },
          validTimes: [t, t + h, t + 2n * h],
          values: [1.25, 0, -3],
          nulls: [false, true, false],
          validTimeEnds: [t + h, 0n, t + 3n * h],
          annotations: ["", "gap", "estimated"],
          tags: [{ values: [] }, { values: ["manual"] }, { values: ["a", "b"] }],
          metadata: [{}, {}, { source: "model", version: 2 }],
        },
      ],
    });
    const id = up.seriesIds.rich ?? "";
    expect((await client.getSeries({ seriesId: id })).series?.kind).toBe(SeriesKind.FORECAST);
    const rows = await readAll(client, { seriesIds: [id] });
    expect(rows.map((r) => ({ value: r.value, end: r.end, annotation: r.annotation, tags: r.tags }))).toEqual(
      [
        { value: 1.25, end: t + h, annotation: undefined, tags: undefined },
        { value: null, end: undefined, annotation: "gap", tags: ["manual"] },
        { value: -3, end: t + 3n * h, annotation: "estimated", tags: ["a", "b"] },
      ],
    );
    const res = client.readValues({ seriesIds: [id] });
    for await (const r of res) expect(r.chunks[0]?.metadata[2]).toEqual({ source: "model", version: 2 });
  });

  it("corrections: omitted keeps, set changes, clear nulls, no-ops are skipped and counted", async () => {
    const up = await client.uploadBatch({
      header: { createMissingSeries: true },
      chunks: [
        {
          series: { name: "corrected" },
          validTimes: [t, t + h],
          values: [10, 20],
          annotations: ["orig", ""],
        },
      ],
    });
    const series = { seriesId: up.seriesIds.corrected ?? "" };
    const res = await client.updateValues({
      updates: [
        { series, validTime: t, value: 11 }, // change value, keep annotation
        { series, validTime: t + h, annotation: "checked" }, // keep value, set annotation
        { series, validTime: t, value: 11 }, // no-op after the first
        { series: { name: "corrected" }, validTime: t, clearAnnotation: true }, // by name, clear
        { series, validTime: t + h, tags: { values: ["qa"] } },
      ],
    });
    expect([res.updatedCount, res.skippedCount]).toEqual([4n, 1n]);
    const latest = await readAll(client, { seriesIds: [series.seriesId] });
    expect(latest.map((r) => [r.value, r.annotation, r.tags])).toEqual([
      [11, undefined, undefined],
      [20, "checked", ["qa"]],
    ]);
    const cleared = await client.updateValues({ updates: [{ series, validTime: t, clearValue: true }] });
    expect(cleared.updatedCount).toBe(1n);
    expect((await readAll(client, { seriesIds: [series.seriesId] }))[0]?.value).toBeNull();
    const history = await readAll(client, { seriesIds: [series.seriesId], mode: ReadMode.CORRECTIONS });
    expect(history.filter((r) => r.valid === t).map((r) => [r.value, r.annotation ?? null])).toEqual([
      [10, "orig"],
      [11, "orig"],
      [11, null],
      [null, null],
    ]);
  });

  it("round-trips times across the accepted range (year 0001, before 1970, year 9999), in both codecs", async () => {
    const times = [
      us("0001-01-01T00:00:00Z"),
      us("1969-12-31T23:59:59.999Z") + 999n,
      0n,
      1n,
      2n ** 53n + 1n, // beyond a double's exact integers
      us("9999-12-31T23:59:59.999Z") + 999n,
    ];
    const up = await client.uploadBatch({
      header: { createMissingSeries: true },
      chunks: [
        { series: { name: "edges" }, validTimes: [...times].reverse(), values: times.map((_, i) => i) },
      ],
    });
    const id = up.seriesIds.edges ?? "";
    // Binary (encoded from the blocks' bytes) and JSON (built as objects): both read paths.
    const json = createClient(
      TimeSeriesService,
      createConnectTransport({
        baseUrl: srv.url,
        httpVersion: "1.1",
        useBinaryFormat: false,
        interceptors: [apiKey(srv.adminKey)],
      }),
    );
    for (const c of [client, json]) {
      const rows = await readAll(c, { seriesIds: [id] });
      expect(rows.map((r) => r.valid)).toEqual(times);
      expect(rows.map((r) => r.value)).toEqual([5, 4, 3, 2, 1, 0]);
      const window = await readAll(c, {
        seriesIds: [id],
        startValid: ts("1969-12-31T23:59:59Z"),
        endValid: { seconds: 0n, nanos: 2000 },
      });
      expect(window.map((r) => r.valid)).toEqual(times.slice(1, 4));
    }
  });

  it("a correction of a value that does not exist is NotFound", async () => {
    const { series } = await client.createSeries({ name: "empty_series" });
    const err = await client
      .updateValues({ updates: [{ series: { seriesId: series?.seriesId ?? "" }, validTime: t, value: 1 }] })
      .catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toMatch(/^updates\[0\]: no stored value/);
  });
});

describe("runs", () => {
  it("lists runs newest first, filtered by workflow and known time, with params and counts", async () => {
    const known = ["2024-07-01T00:00:00Z", "2024-07-02T00:00:00Z", "2024-07-03T00:00:00Z"];
    for (const [i, k] of known.entries()) {
      await client.uploadBatch({
        header: {
          knownTime: ts(k),
          workflowId: "runs-test",
          params: { model: "m1", step: i },
          createMissingSeries: true,
        },
        chunks: [{ series: { name: "runs_series" }, validTimes: [t + BigInt(i) * h], values: [i] }],
      });
    }
    const all = (await client.listRuns({ workflowId: "runs-test" })).runs;
    expect(all.map((r) => r.knownTime?.seconds)).toEqual(
      known.reverse().map((k) => BigInt(Date.parse(k) / 1000)),
    );
    expect(all[0]?.params).toEqual({ model: "m1", step: 2 });
    expect(all.every((r) => r.pointCount === 1n)).toBe(true);
    const window = await client.listRuns({
      workflowId: "runs-test",
      startKnown: ts("2024-07-02T00:00:00Z"),
      endKnown: ts("2024-07-03T00:00:00Z"),
    });
    expect(window.runs.map((r) => r.params?.step)).toEqual([1]);
    const page1 = await client.listRuns({ workflowId: "runs-test", pageSize: 2 });
    const page2 = await client.listRuns({
      workflowId: "runs-test",
      pageSize: 2,
      pageToken: page1.nextPageToken,
    });
    expect([...page1.runs, ...page2.runs].map((r) => r.runId)).toEqual(all.map((r) => r.runId));
    expect(page2.nextPageToken).toBe("");
  });
});

describe("who changed it", () => {
  it("records the key id and the user's email when the key belongs to a user", async () => {
    const { generateApiKey, hashApiKey, apiKeyDisplayPrefix } = await import("../../src/auth/api-key.js");
    const { withTenant } = await import("../../src/store/tenant-tx.js");
    const raw = generateApiKey();
    const keyId = await withTenant(srv.pool, srv.tenantId, async (c) => {
      const user = await c.query<{ id: string }>(
        "INSERT INTO users (tenant_id, email) VALUES ($1, 'ana@example.com') RETURNING id",
        [srv.tenantId],
      );
      const key = await c.query<{ id: string }>(
        "INSERT INTO api_keys (tenant_id, name, key_hash, key_prefix, role, user_id) VALUES ($1, 'ana', $2, $3, 'readwrite', $4) RETURNING id",
        [srv.tenantId, hashApiKey(raw), apiKeyDisplayPrefix(raw), user.rows[0]?.id],
      );
      return key.rows[0]?.id ?? "";
    });
    const ana = clientFor(TimeSeriesService, srv.url, raw, "grpc");
    const up = await ana.uploadBatch({
      header: { createMissingSeries: true },
      chunks: [{ series: { name: "audited" }, validTimes: [t], values: [1] }],
    });
    await ana.updateValues({
      updates: [{ series: { seriesId: up.seriesIds.audited ?? "" }, validTime: t, value: 2 }],
    });
    const history = await readAll(client, {
      seriesIds: [up.seriesIds.audited ?? ""],
      mode: ReadMode.CORRECTIONS,
    });
    expect(history.map((r) => [r.value, r.changedBy])).toEqual([
      [1, `ana@example.com (${keyId})`],
      [2, `ana@example.com (${keyId})`],
    ]);
  });
});
