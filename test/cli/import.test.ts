import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesService } from "../../gen/tdb/v1/time_series_service_pb.js";
import { ReadMode, SeriesKind } from "../../gen/tdb/v1/types_pb.js";
import { clientFor } from "../helpers/clients.js";
import { readAll, us } from "../helpers/points.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";
import { runCli } from "./run-cli.js";

interface Summary {
  runId: string;
  pointCount: number;
  rows: number;
  seriesCount: number;
  knownTime: string | null;
  series: { seriesId: string; name: string; labels: Record<string, string>; pointCount: number }[];
}

let srv: TestServer;
let client: ReturnType<typeof clientFor<typeof TimeSeriesService>>;
let dir: string;
let target: string[];

beforeAll(async () => {
  srv = await startTestServer();
  client = clientFor(TimeSeriesService, srv.url, srv.adminKey, "connect");
  dir = await mkdtemp(path.join(tmpdir(), "tdb-import-"));
  target = ["--dsn", srv.databaseUrl, "--tenant", srv.tenantId];
});
afterAll(async () => {
  await srv?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function csvFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join("\n")}\n`);
  return file;
}

/** What the tenant holds, counted as the tenant sees it (for "nothing was written"). */
async function contents(): Promise<{ series: number; runs: number; points: number }> {
  const series = (await client.listSeries({ pageSize: 1000 })).series;
  const runs = (await client.listRuns({ pageSize: 1000 })).runs;
  const points =
    series.length === 0 ? [] : await readAll(client, { seriesIds: series.map((s) => s.seriesId) });
  return { series: series.length, runs: runs.length, points: points.length };
}

const h = 3_600_000_000n;
const start = us("2025-01-01T00:00:00Z");

describe("tdb import", () => {
  it("imports 50,000 rows across five series and reads them back equal through ReadValues", async () => {
    type Expected = { valid: bigint; value: number | null; end?: bigint; annotation?: string };
    const expected = new Map<string, Expected[]>();
    const lines = ["series,labels,valid_time,value,valid_time_end,annotation"];
    const names = [
      ["power", "site=a;unit=kW"],
      ["power", "site=b;unit=kW"],
      ["temp", ""],
      ["price", '"{""zone"":""x;y""}"'],
      ["flow", "site=a"],
    ] as const;
    const keys = [
      'power{site="a",unit="kW"}',
      'power{site="b",unit="kW"}',
      "temp",
      'price{zone="x;y"}',
      'flow{site="a"}',
    ];
    // Blocks of 1,000 rows per series, cycling: every series appears in ten separate runs of rows.
    for (let block = 0; block < 50; block++) {
      const s = block % 5;
      const [name, labels] = names[s] as readonly [string, string];
      const key = keys[s] as string;
      const list = expected.get(key) ?? [];
      expected.set(key, list);
      for (let k = 0; k < 1000; k++) {
        const i = Math.floor(block / 5) * 1000 + k;
        const valid = start + BigInt(i) * h;
        const value = i % 97 === 0 ? null : Math.round(Math.sin(i + s) * 1e6) / 1e3;
        const end = s === 4 ? valid + h : undefined;
        const annotation = s === 2 && i % 10 === 0 ? `check, "ok" #${i}` : undefined;
        // Alternate both time formats, and an offset other than Z.
        const time =
          i % 3 === 0
            ? valid.toString()
            : i % 3 === 1
              ? new Date(Number(valid / 1000n)).toISOString()
              : `${new Date(Number((valid + h) / 1000n)).toISOString().slice(0, 19)}+01:00`;
        lines.push(
          [
            name,
            labels,
            time,
            value === null ? "" : String(value),
            end === undefined ? "" : new Date(Number(end / 1000n)).toISOString(),
            annotation === undefined ? "" : `"${annotation.replaceAll('"', '""')}"`,
          ].join(","),
        );
        const row: Expected = { valid, value };
        if (end !== undefined) row.end = end;
        if (annotation !== undefined) row.annotation = annotation;
        list.push(row);
      }
    }
    const file = await csvFile("big.csv", lines);

    const r = await runCli([
      "import",
      file,
      ...target,
      "--known-time",
      "2025-06-01T00:00:00Z",
      "--workflow",
      "csv-test",
      "--chunk-size",
      "700",
      "--json",
      "--progress",
    ]);
    expect(r.stderr).toMatch(/^import: [\d,]+ rows, [\d.]+ MB of [\d.]+ MB \(\d+%\), [\d,]+ rows\/s/m);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary).toMatchObject({
      pointCount: 50_000,
      rows: 50_000,
      seriesCount: 5,
      knownTime: "2025-06-01T00:00:00.000000Z",
    });
    expect(summary.series.map((s) => s.pointCount)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);

    const run = (await client.listRuns({ workflowId: "csv-test" })).runs;
    expect(run.map((x) => x.runId)).toEqual([summary.runId]);

    for (const s of summary.series) {
      const key =
        s.name === "temp" ? "temp" : keys.find((k) => k.startsWith(s.name) && labelsMatch(k, s.labels));
      const got = await readAll(client, { seriesIds: [s.seriesId], mode: ReadMode.LATEST });
      const want = expected.get(key as string) ?? [];
      expect(got.map(({ valid, value, end, annotation }) => ({ valid, value, end, annotation }))).toEqual(
        want.map(({ valid, value, end, annotation }) => ({ valid, value, end, annotation })),
      );
      expect(new Set(got.map((p) => p.run))).toEqual(new Set([summary.runId]));
      expect(new Set(got.map((p) => p.known))).toEqual(new Set([us("2025-06-01T00:00:00Z")]));
    }
    const created = (await client.listSeries({ name: "power" })).series;
    expect(created.map((s) => s.kind)).toEqual([SeriesKind.ACTUAL, SeriesKind.ACTUAL]);
  });

  it("refuses a bad row in the middle: exit 2, one line naming the line and column, nothing written", async () => {
    const before = await contents();
    const lines = ["series,valid_time,value"];
    for (let i = 0; i < 10_000; i++)
      lines.push(`bad-input,${start + BigInt(i) * h},${i === 5_000 ? "NaN" : i}`);
    const file = await csvFile("nan.csv", lines);
    const r = await runCli(["import", file, ...target]);
    expect(r.code).toBe(2);
    // Row 5000 (0-based) is on line 5002: the header is line 1.
    expect(r.stderr).toBe("tdb: line 5002, column value: must be a finite number, got NaN\n");
    expect(r.stdout).toBe("");
    expect(await contents()).toEqual(before);
  });

  it.each([
    [
      "an unparsable time",
      ["series,valid_time,value", "x,2025-01-01T00:00:00Z,1", "x,yesterday,2"],
      /^tdb: line 3, column valid_time: expected RFC 3339/,
    ],
    [
      "a time without offset",
      ["series,valid_time,value", "x,2025-01-01T00:00:00,1"],
      /^tdb: line 2, column valid_time: /,
    ],
    [
      "a time out of range",
      ["series,valid_time,value", "x,999999999999999999,1"],
      /^tdb: line 2, column valid_time: time out of range/,
    ],
    [
      "a value that is not a number",
      ["series,valid_time,value", "x,1,1", "x,2,abc"],
      /^tdb: line 3, column value: not a number: "abc"/,
    ],
    [
      "Infinity",
      ["series,valid_time,value", "x,1,-Infinity"],
      /^tdb: line 2, column value: must be a finite number, got -Infinity/,
    ],
    [
      "a duplicate valid time",
      ["series,valid_time,value", "x,1,1", "x,2,1", "x,2,1"],
      /^tdb: line 4, column valid_time: duplicate valid time/,
    ],
    [
      "an interval that ends before it starts",
      ["series,valid_time,value,valid_time_end", "x,10,1,5"],
      /^tdb: line 2, column valid_time_end: must be after/,
    ],
    [
      "a malformed label key",
      ["series,labels,valid_time,value", "x,bad key=1,1,1"],
      /^tdb: line 2, column labels: label keys are/,
    ],
    [
      "labels without =",
      ["series,labels,valid_time,value", "x,site,1,1"],
      /^tdb: line 2, column labels: expected key=value pairs/,
    ],
    ["an empty series name", ["series,valid_time,value", ",1,1"], /^tdb: line 2, column series: is required/],
    [
      "a row with too few fields",
      ["series,valid_time,value", "x,1,1", "x,2"],
      /^tdb: line 3: has 2 fields, the header has 3/,
    ],
    [
      "an unknown column",
      ["series,valid_time,value,colour", "x,1,1,red"],
      /^tdb: line 1: unknown column "colour"/,
    ],
    ["a missing column", ["series,value", "x,1"], /^tdb: line 1: missing column valid_time/],
    [
      "an unclosed quote",
      ["series,valid_time,value,annotation", 'x,1,1,"oops'],
      /^tdb: line 2: a quoted field is not closed/,
    ],
  ])("refuses %s with exit 2 and names where", async (_what, lines, message) => {
    const before = await contents();
    const r = await runCli(["import", await csvFile("bad.csv", lines), ...target]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(await contents()).toEqual(before);
  });

  it("finds a duplicate across separate runs of rows of one series, and writes nothing", async () => {
    const before = await contents();
    const file = await csvFile("dup.csv", [
      "series,valid_time,value",
      "d,2025-01-01T00:00:00Z,1",
      "d,2025-01-01T01:00:00Z,2",
      "e,2025-01-01T00:00:00Z,3",
      "d,2025-01-01T00:00:00Z,4",
    ]);
    const r = await runCli(["import", file, ...target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^tdb: line 5, column valid_time: duplicate valid time 2025-01-01T00:00:00(\.000)?Z for series d in one upload\n$/,
    );
    expect(await contents()).toEqual(before);

    // Same series written two ways, times a microsecond apart, the repeat far from the first.
    const micro = await csvFile("dup-micro.csv", [
      "series,labels,valid_time,value",
      "m,k=v;j=w,1000001,1",
      "m,k=v;j=w,1000002,2",
      "m,k=other,1000001,3",
      "m,j=w; k=v,1000001,4",
    ]);
    const r2 = await runCli(["import", micro, ...target]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(
      /^tdb: line 5, column valid_time: duplicate valid time .* for series m\{j="w",k="v"\}/,
    );
    expect(await contents()).toEqual(before);
  });

  it("prints a one-line summary, creates forecast series with --kind, and stays quiet without a terminal", async () => {
    const file = await csvFile("small.csv", [
      "valid_time,series,value,labels",
      "2025-03-01T00:00:00Z,fc,1.5,model=m1",
      "2025-03-01T01:00:00Z,fc,,model=m1",
    ]);
    const r = await runCli(["import", file, ...target, "--kind", "forecast"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^imported 2 points into 1 series: run \d+ \(\d+ rows\/s\)\n$/);
    const [series] = (await client.listSeries({ name: "fc" })).series;
    expect(series?.kind).toBe(SeriesKind.FORECAST);
    const points = await readAll(client, { seriesIds: [series?.seriesId ?? ""] });
    expect(points.map((p) => p.value)).toEqual([1.5, null]);

    const quiet = await runCli(["import", file, ...target, "--kind", "forecast", "--quiet", "--progress"]);
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, "", ""]);
  });

  it("exits 3 for a missing file and 2 for a bad option, before touching the database", async () => {
    const missing = await runCli(["import", path.join(dir, "nope.csv"), ...target]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^tdb: .*nope\.csv: no such file\n$/);
    const bad = await runCli(["import", path.join(dir, "nope.csv"), ...target, "--chunk-size", "0"]);
    expect(bad.code).toBe(2);
    const kind = await runCli(["import", path.join(dir, "nope.csv"), ...target, "--kind", "weird"]);
    expect(kind.code).toBe(2);
  });
});

function labelsMatch(key: string, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => key.includes(`${k}=${JSON.stringify(v)}`));
}
