import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode, SeriesKind } from "../../gen/tdb/v1/types_pb.js";
import { clientFor } from "../helpers/clients.js";
import { readAll, ts, us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * A small forecast: three runs issued at 00:00, 06:00 and 12:00 for overlapping hours,
 * then a correction of run 2's 12:00 value. Expected rows are written out by hand.
 */
let srv: TestServer;
let client: ReturnType<typeof clientFor<typeof TimeSeriesService>>;
let seriesId: string;
const run: string[] = [];
let correctionTime = 0n;

const k1 = "2024-03-01T00:00:00Z";
const k2 = "2024-03-01T06:00:00Z";
const k3 = "2024-03-01T12:00:00Z";
const h = (hh: number) => us(`2024-03-01T${String(hh).padStart(2, "0")}:00:00Z`);

beforeAll(async () => {
  srv = await startTestServer();
  client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
  seriesId =
    (await client.createSeries({ name: "wind_power", kind: SeriesKind.FORECAST, unit: "MW" })).series
      ?.seriesId ?? "";
  const upload = async (known: string, hours: number[], values: number[]) => {
    const r = await client.uploadBatch({
      header: { knownTime: ts(known), workflowId: "forecast" },
      chunks: [{ series: { seriesId }, validTimes: hours.map(h), values }],
    });
    run.push(r.runId);
  };
  await upload(k1, [6, 12, 18], [10, 20, 30]); // run 0
  await upload(k2, [12, 18, 24 - 1], [21, 31, 41]); // run 1: 12:00, 18:00, 23:00
  await upload(k3, [18, 23], [32, 42]); // run 2
  const upd = await client.updateValues({
    updates: [{ series: { seriesId }, validTime: h(12), runId: run[1], value: 25, annotation: "curtailed" }],
  });
  expect(upd.updatedCount).toBe(1n);
  const corrections = await readAll(client, { seriesIds: [seriesId], mode: ReadMode.CORRECTIONS });
  correctionTime = corrections.find((r) => r.annotation === "curtailed")?.change ?? 0n;
});
afterAll(async () => {
  await srv?.close();
});

const pick = (rows: Awaited<ReturnType<typeof readAll>>) =>
  rows.map((r) => ({
    valid: r.valid,
    value: r.value,
    run: run.indexOf(r.run),
    ...(r.annotation ? { annotation: r.annotation } : {}),
  }));

describe("read modes on a forecast with three runs and a correction", () => {
  it("LATEST: the newest run per valid time, with its newest correction", async () => {
    const rows = await readAll(client, { seriesIds: [seriesId], mode: ReadMode.LATEST });
    expect(pick(rows)).toEqual([
      { valid: h(6), value: 10, run: 0 },
      { valid: h(12), value: 25, run: 1, annotation: "curtailed" },
      { valid: h(18), value: 32, run: 2 },
      { valid: h(23), value: 42, run: 2 },
    ]);
    // The default mode is LATEST.
    expect(pick(await readAll(client, { seriesIds: [seriesId] }))).toEqual(pick(rows));
  });

  it("AS_OF between run 1 and run 2: what was known at 09:00 (before the correction)", async () => {
    const rows = await readAll(client, {
      seriesIds: [seriesId],
      mode: ReadMode.AS_OF,
      asOf: ts("2024-03-01T09:00:00Z"),
    });
    expect(pick(rows)).toEqual([
      { valid: h(6), value: 10, run: 0 },
      { valid: h(12), value: 21, run: 1 },
      { valid: h(18), value: 31, run: 1 },
      { valid: h(23), value: 41, run: 1 },
    ]);
  });

  it("AS_OF before any run sees nothing; AS_OF between runs 0 and 1 sees run 0 only", async () => {
    expect(
      await readAll(client, {
        seriesIds: [seriesId],
        mode: ReadMode.AS_OF,
        asOf: ts("2024-02-29T23:00:00Z"),
      }),
    ).toEqual([]);
    const rows = await readAll(client, {
      seriesIds: [seriesId],
      mode: ReadMode.AS_OF,
      asOf: ts("2024-03-01T03:00:00Z"),
    });
    expect(pick(rows)).toEqual([
      { valid: h(6), value: 10, run: 0 },
      { valid: h(12), value: 20, run: 0 },
      { valid: h(18), value: 30, run: 0 },
    ]);
  });

  it("AS_OF now includes the correction", async () => {
    const rows = await readAll(client, {
      seriesIds: [seriesId],
      mode: ReadMode.AS_OF,
      asOf: { seconds: BigInt(Math.ceil(Date.now() / 1000) + 5), nanos: 0 },
    });
    expect(rows.find((r) => r.valid === h(12))?.value).toBe(25);
  });

  it("ALL_VINTAGES: every run's value (newest correction), ordered by valid then known time", async () => {
    const rows = await readAll(client, { seriesIds: [seriesId], mode: ReadMode.ALL_VINTAGES });
    expect(pick(rows)).toEqual([
      { valid: h(6), value: 10, run: 0 },
      { valid: h(12), value: 20, run: 0 },
      { valid: h(12), value: 25, run: 1, annotation: "curtailed" },
      { valid: h(18), value: 30, run: 0 },
      { valid: h(18), value: 31, run: 1 },
      { valid: h(18), value: 32, run: 2 },
      { valid: h(23), value: 41, run: 1 },
      { valid: h(23), value: 42, run: 2 },
    ]);
    expect(rows.map((r) => r.known)).toEqual([k1, k1, k2, k1, k2, k3, k2, k3].map(us));
  });

  it("CORRECTIONS: every version, with change time and author", async () => {
    const rows = await readAll(client, { seriesIds: [seriesId], mode: ReadMode.CORRECTIONS });
    expect(pick(rows)).toEqual([
      { valid: h(6), value: 10, run: 0 },
      { valid: h(12), value: 20, run: 0 },
      { valid: h(12), value: 21, run: 1 },
      { valid: h(12), value: 25, run: 1, annotation: "curtailed" },
      { valid: h(18), value: 30, run: 0 },
      { valid: h(18), value: 31, run: 1 },
      { valid: h(18), value: 32, run: 2 },
      { valid: h(23), value: 41, run: 1 },
      { valid: h(23), value: 42, run: 2 },
    ]);
    const corrected = rows.filter((r) => r.valid === h(12) && r.run === run[1]);
    expect(corrected[1]?.change).toBeGreaterThan(corrected[0]?.change ?? 0n);
    expect(corrected[1]?.change).toBe(correctionTime);
    // Every version names who wrote it: the admin key's id.
    expect(new Set(rows.map((r) => r.changedBy)).size).toBe(1);
    expect(rows[0]?.changedBy).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("filters valid time and known time as half-open ranges", async () => {
    const rows = await readAll(client, {
      seriesIds: [seriesId],
      mode: ReadMode.ALL_VINTAGES,
      startValid: ts("2024-03-01T12:00:00Z"),
      endValid: ts("2024-03-01T18:00:00Z"),
    });
    expect(pick(rows)).toEqual([
      { valid: h(12), value: 20, run: 0 },
      { valid: h(12), value: 25, run: 1, annotation: "curtailed" },
    ]);
    const known = await readAll(client, {
      seriesIds: [seriesId],
      mode: ReadMode.LATEST,
      startKnown: ts(k2),
      endKnown: ts(k3),
    });
    // Only run 1 is in [06:00, 12:00): LATEST among it alone.
    expect(pick(known)).toEqual([
      { valid: h(12), value: 25, run: 1, annotation: "curtailed" },
      { valid: h(18), value: 31, run: 1 },
      { valid: h(23), value: 41, run: 1 },
    ]);
  });
});

describe("ACTUAL series", () => {
  it("a later upload supersedes the earlier value; the old one stays in CORRECTIONS only", async () => {
    const id = (await client.createSeries({ name: "meter", kind: SeriesKind.ACTUAL })).series?.seriesId ?? "";
    const first = await client.uploadBatch({
      header: { knownTime: ts("2024-03-02T01:00:00Z") },
      chunks: [
        {
          series: { seriesId: id },
          validTimes: [us("2024-03-02T00:00:00Z"), us("2024-03-02T01:00:00Z")],
          values: [1, 2],
        },
      ],
    });
    const second = await client.uploadBatch({
      header: { knownTime: ts("2024-03-02T02:00:00Z") },
      chunks: [{ series: { seriesId: id }, validTimes: [us("2024-03-02T01:00:00Z")], values: [2.5] }],
    });
    const latest = await readAll(client, { seriesIds: [id] });
    expect(latest.map((r) => [r.value, r.run])).toEqual([
      [1, first.runId],
      [2.5, second.runId],
    ]);
    const vintages = await readAll(client, { seriesIds: [id], mode: ReadMode.ALL_VINTAGES });
    expect(vintages.map((r) => r.value)).toEqual([1, 2.5]);
    const history = await readAll(client, { seriesIds: [id], mode: ReadMode.CORRECTIONS });
    expect(history.map((r) => r.value)).toEqual([1, 2, 2.5]);
  });
});
