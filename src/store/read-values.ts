import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { Source } from "./block-source.js";
import { CopyBinaryReader } from "./copy-binary-reader.js";
import { BlockMerger, type MergeRule, type PointSink, type SeriesName } from "./merge.js";
import { PointChunkEncoder } from "./read-binary-chunks.js";
import type { TenantClient } from "./tenant-tx.js";

/** The bitemporal views (numbers of the ReadMode enum). */
export enum Mode {
  Latest = 1,
  AsOf = 2,
  AllVintages = 3,
  Corrections = 4,
}

/** Filters of a read. Times are microseconds since the Unix epoch; undefined = unbounded. */
export interface ReadFilter {
  mode: Mode;
  seriesIds: bigint[];
  name: string;
  labels: Record<string, string>;
  startValidUs?: bigint;
  endValidUs?: bigint;
  startKnownUs?: bigint;
  endKnownUs?: bigint;
  asOfUs?: bigint;
  /** Only one run's versions (UpdateValues addressing a run). */
  runId?: bigint;
  /** Leave out known times, run ids and change times (LATEST and AS_OF). */
  valuesOnly?: boolean;
}

/**
 * A batch of read rows as parallel columns (the shape of a PointChunk), in result order.
 * `series` cuts the rows into runs of one series. Optional columns are undefined when no
 * row of the batch has a value for them.
 */
export interface ReadBatch {
  length: number;
  /** `named` on the first run of each series in the read (its name and labels). */
  series: { seriesId: string; start: number; end: number; named?: SeriesName }[];
  validTimes: bigint[];
  values: number[];
  nulls: boolean[] | undefined;
  /** 0n = no end. */
  validTimeEnds: bigint[] | undefined;
  /** "" = none. */
  annotations: string[] | undefined;
  tags: string[][] | undefined;
  /** JSON object text; "" = none. */
  metadata: string[] | undefined;
  knownTimes: bigint[];
  runIds: string[];
  changeTimes: bigint[];
  /** CORRECTIONS only. */
  changedBy: string[] | undefined;
}

const int8 = (v: bigint) => `${BigInt.asIntN(64, v)}`;
const ts = (us: bigint) => `tdb_us_to_ts(${int8(us)})`;

/** Number of fields of a read row (readSql's SELECT list). */
const readFields = 13;

/**
 * The SELECT of a read, with every value inlined as a literal (COPY takes no parameters):
 * numbers are formatted from bigints, strings go through escapeLiteral. It returns the
 * read's sources (block-source.ts): the blocks of `point_blocks` (uploads, and corrections
 * as one-point blocks) ordered by (series, first valid time), an index scan of
 * point_blocks_key without a sort. Versions are resolved by the merge in the server
 * (merge.ts). Filters on known time and
 * AS_OF are per source; the valid-time window selects overlapping blocks and is clipped
 * within them by the merge.
 */
export function readSql(f: ReadFilter): string {
  const series: string[] = [];
  if (f.seriesIds.length > 0) series.push(`id = ANY('{${f.seriesIds.map(int8).join(",")}}'::int8[])`);
  if (f.name !== "") series.push(`name = ${pg.escapeLiteral(f.name)}`);
  if (Object.keys(f.labels).length > 0)
    series.push(`labels @> ${pg.escapeLiteral(JSON.stringify(f.labels))}::jsonb`);
  // Always a list of the tenant's series (RLS confines `series`): the index leads with
  // series_id, so this is what confines the index scan to the tenant.
  const seriesList = `ANY(ARRAY(SELECT id FROM series${series.length > 0 ? ` WHERE ${series.join(" AND ")}` : ""} ORDER BY id))`;
  const w = [`b.series_id = ${seriesList}`];
  // Blocks that overlap the valid-time window; the merge clips within them.
  if (f.startValidUs !== undefined) w.push(`b.last_time >= ${ts(f.startValidUs)}`);
  if (f.endValidUs !== undefined) w.push(`b.first_time < ${ts(f.endValidUs)}`);
  if (f.startKnownUs !== undefined) w.push(`b.known_time >= ${ts(f.startKnownUs)}`);
  if (f.endKnownUs !== undefined) w.push(`b.known_time < ${ts(f.endKnownUs)}`);
  if (f.runId !== undefined) w.push(`b.run_id = ${int8(f.runId)}`);
  // AS_OF judges an uploaded version by its run's known_time alone — a backfilled run is
  // known from its known_time on, whenever it was written — and a correction also by its
  // change_time.
  if (f.asOfUs !== undefined)
    w.push(`b.known_time <= ${ts(f.asOfUs)} AND (b.changed_by IS NULL OR b.change_time <= ${ts(f.asOfUs)})`);
  const author =
    f.mode === Mode.Corrections
      ? "COALESCE(b.changed_by, (SELECT r.created_by FROM runs r WHERE r.id = b.run_id))"
      : "NULL";
  return `SELECT b.series_id, b.first_time, b.known_time, b.change_time, b.run_id,
         b.valid_times, b.values, b.nulls, b.valid_time_ends,
         array_to_json(b.annotations)::text, b.tags::text, b.metadata::text, ${author}
    FROM point_blocks b
   WHERE ${w.join("\n     AND ")}
   ORDER BY b.series_id, b.first_time`;
}

/**
 * The selected series' names, labels and merge rules (ALL_VINTAGES depends on the kind),
 * read in the same round trip as the planner settings.
 */
async function seriesOf(
  c: TenantClient,
  f: ReadFilter,
): Promise<{ named: Map<string, SeriesName>; ruleFor: (seriesId: string) => MergeRule }> {
  const where: string[] = [];
  if (f.seriesIds.length > 0) where.push(`id = ANY('{${f.seriesIds.map(int8).join(",")}}'::int8[])`);
  if (f.name !== "") where.push(`name = ${pg.escapeLiteral(f.name)}`);
  if (Object.keys(f.labels).length > 0)
    where.push(`labels @> ${pg.escapeLiteral(JSON.stringify(f.labels))}::jsonb`);
  const results = (await c.query(
    `${planSettings}; SELECT id::text, name, labels::text AS labels, kind FROM series${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}`,
  )) as unknown as pg.QueryResult<{ id: string; name: string; labels: string; kind: number }>[];
  const rows = results[results.length - 1]?.rows ?? [];
  const named = new Map(
    rows.map((r) => [r.id, { name: r.name, labels: JSON.parse(r.labels) as Record<string, string> }]),
  );
  const actual = new Set(rows.filter((r) => r.kind === 1).map((r) => r.id));
  const ruleFor = (id: string): MergeRule => {
    if (f.mode === Mode.Corrections) return "corrections";
    if (f.mode !== Mode.AllVintages) return "latest";
    // FORECAST: one version per run. ACTUAL: only the current value, because a later upload
    // supersedes an earlier one (kept in CORRECTIONS).
    return actual.has(id) ? "latest" : "vintages";
  };
  return { named, ruleFor };
}

/** Tunes the planner for a streamed read: first rows fast, walk the indexes in order. */
export const planSettings = "SET LOCAL cursor_tuple_fraction = 1; SET LOCAL enable_sort = off";

/**
 * Runs a read as `COPY (SELECT …) TO STDOUT (FORMAT binary)` and merges its sources into
 * `sink`, yielding after every network chunk. The COPY stream is pulled only when the
 * consumer asks for more, so a slow client stops the socket and PostgreSQL with it: memory
 * stays bounded (one chunk, the overlapping blocks, socket buffers) however large the
 * result. Stopping early (client gone) closes the connection, which ends the query; the
 * caller's transaction then cannot commit.
 */
async function* mergeInto(c: TenantClient, f: ReadFilter, sink: PointSink): AsyncGenerator<void> {
  const { named, ruleFor } = await seriesOf(c, f);
  const reader = new CopyBinaryReader(readFields);
  // Each series starts once in a read (blocks come in series order): name it then.
  const naming: PointSink = {
    startSeries: (id) => sink.startSeries(id, named.get(id)),
    range: (src, from, to) => sink.range(src, from, to),
  };
  const merger = new BlockMerger(naming, ruleFor, { start: f.startValidUs, end: f.endValidUs });
  const stream = c.query(copyTo(`COPY (${readSql(f)}) TO STDOUT (FORMAT binary)`));
  let failure: Error | undefined;
  stream.on("error", (err: Error) => {
    failure = err;
  });
  const each = () => merger.push(new Source(reader));
  let done = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      reader.push(chunk, each);
      merger.run(false);
      yield;
    }
    if (!failure) merger.run(true);
    done = true;
  } finally {
    if (!done) {
      // The consumer left (or failed) mid-result: PostgreSQL is still sending. Closing the
      // socket ends the backend's query; the pool then drops this connection.
      // (Leaving the loop early has destroyed the COPY stream already; the socket is still
      // open.) pg reports the closed connection as an 'error' event on the client, which
      // would be uncaught on a checked-out client.
      c.on("error", () => {});
      connectionSocket(c)?.destroy();
      stream.destroy();
    }
  }
  if (failure) throw failure;
  yield;
}

/** Streams a read as columnar batches of at most `batch` rows (the object path, for JSON clients). */
export async function* readBatches(c: TenantClient, f: ReadFilter, batch: number): AsyncGenerator<ReadBatch> {
  const provenance = !f.valuesOnly;
  const withChangedBy = f.mode === Mode.Corrections;
  let out = newBatch();
  const full: ReadBatch[] = [];
  let seriesId = "";
  let named: SeriesName | undefined;
  const point = (s: Source, j: number) => {
    const i = out.length;
    if (i === 0 || out.series[out.series.length - 1]?.seriesId !== seriesId) {
      const last = out.series[out.series.length - 1];
      if (last) last.end = i;
      out.series.push(named ? { seriesId, start: i, end: i, named } : { seriesId, start: i, end: i });
      named = undefined;
    }
    out.validTimes.push(s.timeUs(j));
    if (s.isNull(j)) {
      out.values.push(0);
      if (!out.nulls) out.nulls = new Array<boolean>(i).fill(false);
      out.nulls.push(true);
    } else {
      out.values.push(s.value(j));
      out.nulls?.push(false);
    }
    // Optional columns appear (filled with "none" for earlier rows) when a row first has one.
    const end = s.endUs(j);
    if (end === 0n) out.validTimeEnds?.push(0n);
    else {
      if (!out.validTimeEnds) out.validTimeEnds = new Array<bigint>(i).fill(0n);
      out.validTimeEnds.push(end);
    }
    const annotation = s.annotation(j);
    if (annotation === "") out.annotations?.push("");
    else {
      if (!out.annotations) out.annotations = new Array<string>(i).fill("");
      out.annotations.push(annotation);
    }
    const tags = s.tagList(j);
    if (tags.length === 0) out.tags?.push([]);
    else {
      if (!out.tags) out.tags = Array.from({ length: i }, () => []);
      out.tags.push(tags);
    }
    const metadata = s.metadataJson(j);
    if (metadata === "") out.metadata?.push("");
    else {
      if (!out.metadata) out.metadata = new Array<string>(i).fill("");
      out.metadata.push(metadata);
    }
    if (provenance) {
      out.knownTimes.push(s.knownUs);
      out.runIds.push(s.runIdText);
      out.changeTimes.push(s.changeUs);
      if (withChangedBy) {
        if (!out.changedBy) out.changedBy = [];
        out.changedBy.push(s.changedBy ?? "");
      }
    }
    out.length = i + 1;
    if (out.length >= batch) {
      close(out);
      full.push(out);
      out = newBatch();
    }
  };
  const sink: PointSink = {
    startSeries(id, name) {
      seriesId = id;
      named = name;
    },
    range(s, from, to) {
      for (let j = from; j < to; j++) point(s, j);
    },
  };
  for await (const _ of mergeInto(c, f, sink)) {
    while (full.length > 0) yield full.shift() as ReadBatch;
  }
  if (out.length > 0) {
    close(out);
    yield out;
  }
}

/**
 * Streams a read as ready-encoded PointChunk bytes (see PointChunkEncoder), in groups of
 * at most `batch` points: one group per response message.
 */
export async function* readEncodedChunks(
  c: TenantClient,
  f: ReadFilter,
  batch: number,
  metadataBytes: (json: string) => Uint8Array,
  seriesRefBytes: (seriesId: string, named: SeriesName | undefined) => Uint8Array,
): AsyncGenerator<Uint8Array[]> {
  const enc = new PointChunkEncoder(
    metadataBytes,
    seriesRefBytes,
    !f.valuesOnly,
    f.mode === Mode.Corrections,
  );
  const full: Uint8Array[][] = [];
  const sink: PointSink = {
    startSeries(id, name) {
      enc.startSeries(id, name);
    },
    range(s, from, to) {
      let k = from;
      while (k < to) {
        const upTo = Math.min(to, k + (batch - enc.count));
        enc.range(s, k, upTo);
        k = upTo;
        if (enc.count >= batch) {
          full.push(enc.take());
          enc.count = 0;
        }
      }
    },
  };
  for await (const _ of mergeInto(c, f, sink)) {
    while (full.length > 0) yield full.shift() as Uint8Array[];
  }
  if (enc.count > 0) yield enc.take();
}

function newBatch(): ReadBatch {
  return {
    length: 0,
    series: [],
    validTimes: [],
    values: [],
    nulls: undefined,
    validTimeEnds: undefined,
    annotations: undefined,
    tags: undefined,
    metadata: undefined,
    knownTimes: [],
    runIds: [],
    changeTimes: [],
    changedBy: undefined,
  };
}

function close(b: ReadBatch): void {
  const last = b.series[b.series.length - 1];
  if (last) last.end = b.length;
}

/** The socket under a pg client (not in its typings). */
function connectionSocket(c: TenantClient): { destroy(): void } | undefined {
  return (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
}
