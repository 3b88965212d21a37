import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode, SeriesKind } from "../../gen/tdb/v1/types_pb.js";
import { clientFor } from "../helpers/clients.js";
import { readAll, ts, us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * The block merge (src/store/merge.ts) against a brute-force model. Random runs (some dense,
 * on one grid, some sparse) upload
 * random subsets of a 20,000-point grid in chunks of random sizes (short ones are joined
 * per series, long ones become blocks of their own, some split at 8,192 points), in
 * shuffled order, some chunks unsorted; two runs share a known time; corrections follow.
 * Every read mode, with valid- and known-time windows that cut blocks in the middle, must
 * equal what the model computes from the list of versions.
 */

let srv: TestServer;
let client: ReturnType<typeof clientFor<typeof TimeSeriesService>>;

const grid = 20_000;
const t0 = us("2025-01-01T00:00:00Z");
const minute = 60_000_000n;
const vt = (i: number) => t0 + BigInt(i) * minute;
const knownIso = [
  "2024-12-30T00:00:00Z",
  "2024-12-30T06:00:00Z",
  "2024-12-30T06:00:00Z",
  "2024-12-30T12:00:00Z",
  "2024-12-31T00:00:00Z",
];

/** A deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One stored version, as the model sees it. `seq` orders change times (uploads, then corrections). */
interface Version {
  series: string;
  valid: bigint;
  known: bigint;
  seq: number;
  run: string;
  value: number | null;
  annotation?: string;
  correction: boolean;
}

const versions: Version[] = [];
const series: Record<"forecast" | "actual", string> = { forecast: "", actual: "" };

beforeAll(async () => {
  srv = await startTestServer();
  client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "grpc");
  const random = prng(20261122);
  for (const kind of ["forecast", "actual"] as const) {
    const res = await client.createSeries({
      name: `model_${kind}`,
      kind: kind === "forecast" ? SeriesKind.FORECAST : SeriesKind.ACTUAL,
    });
    series[kind] = res.series?.seriesId ?? "";
  }
  let seq = 0;
  for (const [r, known] of knownIso.entries()) {
    // Each run: a random subset of the grid for each series, in random-size chunks.
    const chunks: { seriesId: string; idx: number[] }[] = [];
    for (const kind of ["forecast", "actual"] as const) {
      // Runs 0, 2 and 4 are dense (one time grid, like re-issued forecasts), the others sparse.
      const density = r % 2 === 0 ? 1 : 0.3 + random() * 0.7;
      const from = Math.floor(random() * grid * 0.3);
      const idx: number[] = [];
      for (let i = from; i < grid; i++) if (random() < density) idx.push(i);
      for (let k = 0; k < idx.length; ) {
        const size = random() < 0.5 ? 1 + Math.floor(random() * 40) : 500 + Math.floor(random() * 9000);
        chunks.push({ seriesId: series[kind], idx: idx.slice(k, k + size) });
        k += size;
      }
    }
    // Shuffle the chunks and reverse some (unsorted within the chunk).
    for (let i = chunks.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [chunks[i], chunks[j]] = [chunks[j] as (typeof chunks)[0], chunks[i] as (typeof chunks)[0]];
    }
    for (const c of chunks) if (random() < 0.2) c.idx.reverse();
    const value = (i: number) => (i % 97 === 0 ? null : r * 100_000 + i + 0.5);
    const upload = await client.uploadBatch({
      header: { knownTime: ts(known) },
      chunks: chunks.map((c) => ({
        series: { seriesId: c.seriesId },
        validTimes: c.idx.map(vt),
        values: c.idx.map((i) => value(i) ?? 0),
        nulls: c.idx.map((i) => value(i) === null),
      })),
    });
    seq++;
    for (const c of chunks)
      for (const i of c.idx)
        versions.push({
          series: c.seriesId,
          valid: vt(i),
          known: us(known),
          seq,
          run: upload.runId,
          value: value(i),
          correction: false,
        });
  }
  // Corrections of random stored values: half address LATEST's version, half a given run.
  for (let k = 0; k < 40; k++) {
    const pick = versions[Math.floor(random() * versions.length)] as Version;
    const byRun = random() < 0.5;
    const target = latest(
      versions.filter(
        (v) => v.series === pick.series && v.valid === pick.valid && (!byRun || v.run === pick.run),
      ),
    ) as Version;
    const value = -k - 0.25;
    const res = await client.updateValues({
      updates: [
        {
          series: { seriesId: pick.series },
          validTime: pick.valid,
          ...(byRun ? { runId: pick.run } : {}),
          value,
          annotation: `fix ${k}`,
        },
      ],
    });
    expect(res.updatedCount).toBe(1n);
    seq++;
    versions.push({ ...target, seq, value, annotation: `fix ${k}`, correction: true });
  }
});
afterAll(async () => {
  await srv?.close();
});

/** LATEST's choice among versions of one value: newest known time, then change, then run id. */
function latest(vs: Version[]): Version | undefined {
  return [...vs].sort(
    (a, b) => cmp(b.known, a.known) || b.seq - a.seq || cmp(BigInt(b.run), BigInt(a.run)),
  )[0];
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Window {
  startValid?: bigint;
  endValid?: bigint;
  startKnown?: bigint;
  endKnown?: bigint;
}

function inWindow(v: Version, w: Window): boolean {
  return (
    (w.startValid === undefined || v.valid >= w.startValid) &&
    (w.endValid === undefined || v.valid < w.endValid) &&
    (w.startKnown === undefined || v.known >= w.startKnown) &&
    (w.endKnown === undefined || v.known < w.endKnown)
  );
}

type Row = { valid: bigint; value: number | null; run: string; annotation?: string };
const row = (v: Version): Row => ({
  valid: v.valid,
  value: v.value,
  run: v.run,
  ...(v.annotation ? { annotation: v.annotation } : {}),
});

/** Groups versions by valid time, in valid-time order. */
function byValid(vs: Version[]): Version[][] {
  const groups = new Map<bigint, Version[]>();
  for (const v of vs) groups.set(v.valid, [...(groups.get(v.valid) ?? []), v]);
  return [...groups.entries()].sort((a, b) => cmp(a[0], b[0])).map(([, g]) => g);
}

function model(seriesId: string, mode: ReadMode, w: Window, asOfSeq?: number, asOfKnown?: bigint): Row[] {
  let vs = versions.filter((v) => v.series === seriesId && inWindow(v, w));
  if (asOfSeq !== undefined && asOfKnown !== undefined)
    vs = vs.filter((v) => v.known <= asOfKnown && (!v.correction || v.seq <= asOfSeq));
  const groups = byValid(vs);
  const actual = seriesId === series.actual;
  if (mode === ReadMode.CORRECTIONS)
    return groups.flatMap((g) =>
      [...g]
        .sort((a, b) => cmp(a.known, b.known) || a.seq - b.seq || cmp(BigInt(a.run), BigInt(b.run)))
        .map(row),
    );
  if (mode === ReadMode.ALL_VINTAGES && !actual)
    return groups.flatMap((g) => {
      const perRun = new Map<string, Version[]>();
      for (const v of g) perRun.set(`${v.known}/${v.run}`, [...(perRun.get(`${v.known}/${v.run}`) ?? []), v]);
      return [...perRun.values()]
        .map((vs2) => latest(vs2) as Version)
        .sort((a, b) => cmp(a.known, b.known) || cmp(BigInt(a.run), BigInt(b.run)))
        .map(row);
    });
  return groups.map((g) => row(latest(g) as Version));
}

async function read(seriesId: string, mode: ReadMode, w: Window, asOf?: string): Promise<Row[]> {
  const t = (x: bigint | undefined) =>
    x === undefined ? undefined : { seconds: x / 1_000_000n, nanos: Number(x % 1_000_000n) * 1000 };
  const rows = await readAll(client, {
    seriesIds: [seriesId],
    mode,
    startValid: t(w.startValid),
    endValid: t(w.endValid),
    startKnown: t(w.startKnown),
    endKnown: t(w.endKnown),
    ...(asOf ? { asOf: ts(asOf) } : {}),
  });
  return rows.map((r) => ({
    valid: r.valid,
    value: r.value,
    run: r.run,
    ...(r.annotation ? { annotation: r.annotation } : {}),
  }));
}

const windows: [string, Window][] = [
  ["everything", {}],
  ["a valid-time window cutting blocks", { startValid: vt(4321), endValid: vt(13_579) }],
  [
    "a known-time window (the two runs at 06:00 and the one at 12:00)",
    { startKnown: us(knownIso[1] as string), endKnown: us(knownIso[4] as string) },
  ],
];

describe("read modes equal a brute-force model over random overlapping runs and corrections", () => {
  it("stores every uploaded point", async () => {
    const { rows } = await srv.pool.query<{ n: number }>(
      "SELECT COALESCE(sum(n), 0)::int AS n FROM point_blocks WHERE changed_by IS NULL",
    );
    expect(rows[0]?.n).toBe(versions.filter((v) => !v.correction).length);
  });

  for (const kind of ["forecast", "actual"] as const) {
    for (const [what, w] of windows) {
      for (const mode of [ReadMode.LATEST, ReadMode.ALL_VINTAGES, ReadMode.CORRECTIONS]) {
        it(`${ReadMode[mode]} of the ${kind} series, ${what}`, async () => {
          const got = await read(series[kind], mode, w);
          const want = model(series[kind], mode, w);
          expect(got.length).toBe(want.length);
          expect(got).toEqual(want);
        });
      }
    }

    it(`AS_OF between runs (before any correction) of the ${kind} series`, async () => {
      const asOf = "2024-12-30T09:00:00Z";
      const got = await read(series[kind], ReadMode.AS_OF, {}, asOf);
      expect(got).toEqual(model(series[kind], ReadMode.AS_OF, {}, 0, us(asOf)));
      expect(got.length).toBeGreaterThan(0);
    });
  }
});
