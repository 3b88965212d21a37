import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { CopyBinaryReader } from "./copy-binary-reader.js";
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
}

/**
 * A batch of read rows as parallel columns (the shape of a PointChunk), in result order.
 * `series` cuts the rows into runs of one series. Optional columns are undefined when no
 * row of the batch has a value for them.
 */
export interface ReadBatch {
  length: number;
  series: { seriesId: string; start: number; end: number }[];
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

/** Which kinds of series a read selects, for ALL_VINTAGES (whose rule depends on the kind). */
export type KindMix = "actual" | "forecast" | "mixed";

const int8 = (v: bigint) => `${BigInt.asIntN(64, v)}`;
const ts = (us: bigint) => `tdb_us_to_ts(${int8(us)})`;

/**
 * The SELECT of a read, with every value inlined as a literal (COPY takes no parameters):
 * numbers are formatted from bigints, strings go through escapeLiteral. Every mode walks
 * the index `points_key` (series_id, valid_time, known_time DESC, change_time DESC,
 * run_id DESC; see migration 0004) in order:
 * - LATEST / AS_OF (and ALL_VINTAGES of ACTUAL series): index scan + Unique, no sort;
 * - ALL_VINTAGES of FORECAST series and CORRECTIONS: index scan + Incremental Sort within
 *   each (series, valid_time) group (a few rows), so memory stays bounded too.
 * The series filter is an array of ids computed once (an InitPlan), so the index is
 * searched per series rather than joined.
 */
export function readSql(f: ReadFilter, kinds: KindMix = "mixed"): string {
  const series: string[] = [];
  if (f.seriesIds.length > 0) series.push(`id = ANY('{${f.seriesIds.map(int8).join(",")}}'::int8[])`);
  if (f.name !== "") series.push(`name = ${pg.escapeLiteral(f.name)}`);
  if (Object.keys(f.labels).length > 0)
    series.push(`labels @> ${pg.escapeLiteral(JSON.stringify(f.labels))}::jsonb`);
  const where: string[] = [];
  // Always a list of the tenant's series (RLS confines `series`): the index leads with
  // series_id, so this is what confines the index scan to the tenant.
  where.push(
    `p.series_id = ANY(ARRAY(SELECT id FROM series${series.length > 0 ? ` WHERE ${series.join(" AND ")}` : ""} ORDER BY id))`,
  );
  if (f.startValidUs !== undefined) where.push(`p.valid_time >= ${ts(f.startValidUs)}`);
  if (f.endValidUs !== undefined) where.push(`p.valid_time < ${ts(f.endValidUs)}`);
  if (f.startKnownUs !== undefined) where.push(`p.known_time >= ${ts(f.startKnownUs)}`);
  if (f.endKnownUs !== undefined) where.push(`p.known_time < ${ts(f.endKnownUs)}`);
  // AS_OF judges an uploaded version (changed_by NULL) by its run's known_time alone — a
  // backfilled run is known from its known_time on, whenever it was written — and a
  // correction also by its change_time.
  if (f.asOfUs !== undefined)
    where.push(
      `p.known_time <= ${ts(f.asOfUs)} AND (p.changed_by IS NULL OR p.change_time <= ${ts(f.asOfUs)})`,
    );
  const cond = where.length > 0 ? `WHERE ${where.join("\n     AND ")}` : "";
  const cols = `p.series_id, p.valid_time, p.value, p.valid_time_end, p.annotation,
         array_to_json(p.tags)::text, p.metadata::text, p.known_time, p.run_id, p.change_time`;
  switch (f.mode) {
    case Mode.Corrections:
      return `SELECT ${cols}, COALESCE(p.changed_by, r.created_by)
    FROM points p LEFT JOIN runs r ON r.tenant_id = p.tenant_id AND r.id = p.run_id
    ${cond}
    ORDER BY p.series_id, p.valid_time, p.known_time, p.change_time, p.run_id`;
    case Mode.AllVintages:
      if (kinds === "forecast")
        return `SELECT DISTINCT ON (p.series_id, p.valid_time, p.known_time, p.run_id) ${cols}
    FROM points p
    ${cond}
    ORDER BY p.series_id, p.valid_time, p.known_time, p.run_id, p.change_time DESC`;
      if (kinds === "mixed")
        // FORECAST: one row per run (its newest correction). ACTUAL: only the current
        // value, because a later upload supersedes an earlier one (kept in CORRECTIONS).
        return `SELECT DISTINCT ON (p.series_id, p.valid_time,
                            CASE WHEN s.kind = 2 THEN p.known_time END,
                            CASE WHEN s.kind = 2 THEN p.run_id END) ${cols}
    FROM points p JOIN series s ON s.tenant_id = p.tenant_id AND s.id = p.series_id
    ${cond}
    ORDER BY p.series_id, p.valid_time,
             CASE WHEN s.kind = 2 THEN p.known_time END,
             CASE WHEN s.kind = 2 THEN p.run_id END,
             p.known_time DESC, p.change_time DESC, p.run_id DESC`;
      break;
    default:
      break;
  }
  return `SELECT DISTINCT ON (p.series_id, p.valid_time) ${cols}
    FROM points p
    ${cond}
    ORDER BY p.series_id, p.valid_time, p.known_time DESC, p.change_time DESC, p.run_id DESC`;
}

/** ALL_VINTAGES depends on the kinds of the selected series: one cheap query tells. */
async function kindMix(c: TenantClient, f: ReadFilter): Promise<KindMix> {
  const { rows } = await c.query<{ fc: boolean | null; all: boolean | null }>(
    `SELECT bool_or(kind = 2) AS fc, bool_and(kind = 2) AS all FROM series
      WHERE (cardinality($1::int8[]) = 0 OR id = ANY($1::int8[]))
        AND ($2 = '' OR name = $2) AND labels @> $3::jsonb`,
    [f.seriesIds.map(String), f.name, JSON.stringify(f.labels)],
  );
  const r = rows[0];
  if (!r?.fc) return "actual";
  return r.all ? "forecast" : "mixed";
}

/** Tunes the planner for a streamed read: first rows fast, walk the index in order. */
export const planSettings = "SET LOCAL cursor_tuple_fraction = 1; SET LOCAL enable_sort = off";

/**
 * Runs a read as `COPY (SELECT …) TO STDOUT (FORMAT binary)` and yields after every
 * network chunk, once `row()` has seen each complete row of it. The COPY stream is pulled
 * only when the consumer asks for more, so a slow client stops the socket and PostgreSQL
 * with it: memory stays bounded (one chunk plus socket buffers) however large the result.
 * Stopping early (client gone) closes the connection, which ends the query; the caller's
 * transaction then cannot commit.
 */
async function* copyRows(
  c: TenantClient,
  f: ReadFilter,
  row: (r: CopyBinaryReader) => void,
): AsyncGenerator<void> {
  const kinds = f.mode === Mode.AllVintages ? await kindMix(c, f) : "mixed";
  await c.query(planSettings);
  const reader = new CopyBinaryReader(f.mode === Mode.Corrections ? 11 : 10);
  const stream = c.query(copyTo(`COPY (${readSql(f, kinds)}) TO STDOUT (FORMAT binary)`));
  let failure: Error | undefined;
  stream.on("error", (err: Error) => {
    failure = err;
  });
  const each = () => row(reader);
  let done = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      reader.push(chunk, each);
      yield;
    }
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
}

/** Streams a read as columnar batches of at most `batch` rows (see copyRows). */
export async function* readBatches(c: TenantClient, f: ReadFilter, batch: number): AsyncGenerator<ReadBatch> {
  const withChangedBy = f.mode === Mode.Corrections;
  let out = newBatch();
  const full: ReadBatch[] = [];
  let hi = Number.NaN;
  let lo = Number.NaN;
  let seriesId = "";
  let runHi = Number.NaN;
  let runLo = Number.NaN;
  let runId = "";
  const row = (r: CopyBinaryReader) => {
    const i = out.length;
    const h = r.int8Hi(0);
    const l = r.int8Lo(0);
    if (h !== hi || l !== lo || i === 0) {
      if (h !== hi || l !== lo) {
        hi = h;
        lo = l;
        seriesId = r.int8(0).toString();
      }
      const last = out.series[out.series.length - 1];
      if (last) last.end = i;
      out.series.push({ seriesId, start: i, end: i });
    }
    out.validTimes.push(r.timestampUs(1));
    if (r.isNull(2)) {
      out.values.push(0);
      if (!out.nulls) out.nulls = new Array<boolean>(i).fill(false);
      out.nulls.push(true);
    } else {
      out.values.push(r.float8(2));
      out.nulls?.push(false);
    }
    // Optional columns appear (filled with "none" for earlier rows) when a row first has one.
    if (r.isNull(3)) out.validTimeEnds?.push(0n);
    else {
      if (!out.validTimeEnds) out.validTimeEnds = new Array<bigint>(i).fill(0n);
      out.validTimeEnds.push(r.timestampUs(3));
    }
    if (r.isNull(4)) out.annotations?.push("");
    else {
      if (!out.annotations) out.annotations = new Array<string>(i).fill("");
      out.annotations.push(r.text(4));
    }
    if (r.isNull(5)) out.tags?.push([]);
    else {
      if (!out.tags) out.tags = Array.from({ length: i }, () => []);
      out.tags.push(JSON.parse(r.text(5)) as string[]);
    }
    if (r.isNull(6)) out.metadata?.push("");
    else {
      if (!out.metadata) out.metadata = new Array<string>(i).fill("");
      out.metadata.push(r.text(6));
    }
    out.knownTimes.push(r.timestampUs(7));
    const rh = r.int8Hi(8);
    const rl = r.int8Lo(8);
    if (rh !== runHi || rl !== runLo) {
      runHi = rh;
      runLo = rl;
      runId = r.int8(8).toString();
    }
    out.runIds.push(runId);
    out.changeTimes.push(r.timestampUs(9));
    if (withChangedBy) {
      if (!out.changedBy) out.changedBy = [];
      out.changedBy.push(r.isNull(10) ? "" : r.text(10));
    }
    out.length = i + 1;
  };
  for await (const _ of copyRows(c, f, (r) => {
    row(r);
    if (out.length >= batch) {
      close(out);
      full.push(out);
      out = newBatch();
    }
  })) {
    // One network chunk holds at most a few hundred rows: `full` stays short.
    while (full.length > 0) yield full.shift() as ReadBatch;
  }
  if (out.length > 0) {
    close(out);
    yield out;
  }
}

/**
 * Streams a read as ready-encoded PointChunk bytes (see PointChunkEncoder), in groups of
 * about `batch` rows: one group per response message.
 */
export async function* readEncodedChunks(
  c: TenantClient,
  f: ReadFilter,
  batch: number,
  metadataBytes: (json: string) => Uint8Array,
): AsyncGenerator<Uint8Array[]> {
  const withChangedBy = f.mode === Mode.Corrections;
  const enc = new PointChunkEncoder(metadataBytes);
  const full: Uint8Array[][] = [];
  let hi = Number.NaN;
  let lo = Number.NaN;
  let seriesId = "";
  let runHi = Number.NaN;
  let runLo = Number.NaN;
  let runId = new Uint8Array(0);
  const utf8 = new TextEncoder();
  const row = (r: CopyBinaryReader) => {
    const h = r.int8Hi(0);
    const l = r.int8Lo(0);
    if (h !== hi || l !== lo || enc.count === 0) {
      if (h !== hi || l !== lo) {
        hi = h;
        lo = l;
        seriesId = r.int8(0).toString();
      }
      enc.startSeries(seriesId);
    }
    const rh = r.int8Hi(8);
    const rl = r.int8Lo(8);
    if (rh !== runHi || rl !== runLo) {
      runHi = rh;
      runLo = rl;
      runId = utf8.encode(r.int8(8).toString());
    }
    enc.row(r, runId, withChangedBy);
    if (enc.count >= batch) {
      full.push(enc.take());
      enc.count = 0;
    }
  };
  for await (const _ of copyRows(c, f, row)) {
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
