import { once } from "node:events";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { InvalidInputError, LimitExceededError } from "../errors.js";
import { encodeBlock, maxBlockPoints } from "./block-encoder.js";
import { CopyWriter, copyHeader, copyTrailer } from "./copy-binary.js";
import {
  type IngestChunk,
  type PointColumns,
  referenceKey,
  referenceName,
  type SeriesReference,
  seriesKey,
} from "./point-chunk.js";
import type { TenantClient } from "./tenant-tx.js";

/** The run an upload creates. Times are microseconds since the Unix epoch. */
export interface RunInput {
  knownTimeUs: bigint | undefined;
  workflowId: string;
  paramsJson: string;
  startedAtUs: bigint | undefined;
  finishedAtUs: bigint | undefined;
  createdBy: string;
  createMissingSeries: boolean;
  /** SeriesKind number for series created on the fly. */
  newSeriesKind: number;
  maxPoints: number;
}

/** What an upload stored. */
export interface IngestResult {
  runId: string;
  pointCount: number;
  series: { seriesId: string; name: string; labels: Record<string, string>; pointCount: number }[];
}

/** Flush encoded rows to PostgreSQL in pieces of about this size (pg-copy-streams likes 32–512 KB). */
const flushBytes = 256 * 1024;
/** Chunks at least this long become blocks of their own; shorter ones are joined per series. */
const minDirectPoints = 512;
/** Points held in joined short chunks before they are all written out (bounds memory). */
const maxPendingPoints = 256 * 1024;

interface RefState {
  index: number;
  ref: SeriesReference;
  firstPath: string;
  count: number;
  /** The largest valid time written in a block so far. */
  maxLast: bigint | undefined;
  /** True once a block started at or before an earlier block's end: duplicates possible. */
  overlaps: boolean;
  /** Short chunks waiting to be written as one block. */
  pending: Pending | undefined;
  /** The last valid time of the previous chunk, when chunks came sorted so far. */
  lastTime: bigint | undefined;
}

interface Pending {
  validTimes: bigint[];
  values: number[];
  nulls: boolean[] | undefined;
  validTimeEnds: bigint[] | undefined;
  annotations: string[] | undefined;
  tags: (readonly string[])[] | undefined;
  metadata: string[] | undefined;
}

/**
 * One upload in flight, inside a tenant transaction. Points are packed into blocks (one
 * row per series and up to 8,192 points, migration 0005), encoded in binary COPY format and
 * streamed into a temporary staging table while the client is still sending (COPY is
 * refused on RLS tables); `finish()` resolves series references, checks duplicate valid
 * times and moves the blocks into `point_blocks` under the tenant's RLS policy. Any error
 * before commit leaves nothing: the caller's transaction rolls back, after `abort()` has
 * cancelled the COPY.
 */
export class Ingest {
  private readonly refs = new Map<string, RefState>();
  private readonly writer = new CopyWriter();
  private points = 0;
  private pendingPoints = 0;
  private copyError: Error | undefined;

  private constructor(
    private readonly c: TenantClient,
    private readonly tenantId: string,
    private readonly run: RunInput,
    private readonly runId: string,
    private readonly copy: Writable,
  ) {}

  /** Creates the run row and the staging table, and opens the COPY stream. */
  static async begin(c: TenantClient, tenantId: string, run: RunInput): Promise<Ingest> {
    const { rows } = await c.query<{ id: string }>(
      `INSERT INTO runs (tenant_id, known_time, workflow_id, params, started_at, finished_at, created_by)
       VALUES ($1, COALESCE(tdb_us_to_ts($2::int8), now()), $3, $4::jsonb, tdb_us_to_ts($5::int8), tdb_us_to_ts($6::int8), $7)
       RETURNING id::text`,
      [
        tenantId,
        run.knownTimeUs?.toString() ?? null,
        run.workflowId,
        run.paramsJson,
        run.startedAtUs?.toString() ?? null,
        run.finishedAtUs?.toString() ?? null,
        run.createdBy,
      ],
    );
    // The columns of encodeBlock's rows (stagingColumns).
    await c.query(
      `CREATE TEMP TABLE tdb_staging (
         ref int4, first_time timestamptz, last_time timestamptz, n int4, valid_times bytea, values bytea,
         nulls bytea, valid_time_ends bytea, annotations text[], tags jsonb, metadata jsonb) ON COMMIT DROP`,
    );
    const copy = c.query(copyFrom("COPY tdb_staging FROM STDIN (FORMAT binary)"));
    const ingest = new Ingest(c, tenantId, run, rows[0]?.id ?? "", copy);
    // Kept and rethrown by the next flush: pg-copy-streams emits the error of a lost
    // connection but leaves the stream writable, and the next write would trip over it.
    copy.on("error", (err) => {
      ingest.copyError ??= err;
    });
    ingest.writer.raw(copyHeader);
    return ingest;
  }

  /** Encodes one validated chunk; waits when PostgreSQL is slower than the client (backpressure). */
  async add(chunk: IngestChunk): Promise<void> {
    const n = chunk.validTimes.length;
    if (this.points + n > this.run.maxPoints) {
      throw new LimitExceededError(`${chunk.path}: upload exceeds ${this.run.maxPoints} points`);
    }
    const state = this.refState(chunk);
    state.count += n;
    this.points += n;
    if (n === 0) return;
    // The common duplicate (a chunk repeating the previous one's last time) is named here,
    // precisely; anything else is found when blocks are written or at the end.
    const first = chunk.validTimes[0] as bigint;
    if (chunk.sorted && first === state.lastTime) {
      throw this.duplicate(`${chunk.path}.valid_times[0]`, referenceName(state.ref), first);
    }
    state.lastTime = chunk.sorted ? (chunk.validTimes[n - 1] as bigint) : undefined;
    // Duplicates inside a chunk are named here, with their index.
    const order = chunk.sorted ? undefined : sortedOrder(chunk.validTimes, chunk.path);
    if (n >= minDirectPoints) {
      await this.writeBlocks(state, chunk, order, n);
      return;
    }
    // Short chunks of a series are joined into one block (sorted when it is written).
    const p = state.pending ?? emptyPending();
    state.pending = p;
    const before = p.validTimes.length;
    appendColumns(p, chunk, before);
    this.pendingPoints += n;
    if (p.validTimes.length >= maxBlockPoints) await this.writePending(state);
    if (this.pendingPoints >= maxPendingPoints) {
      for (const s of this.refs.values()) await this.writePending(s);
    }
  }

  /** Ends the COPY, resolves series, moves blocks into `point_blocks`; returns what was stored. */
  async finish(): Promise<IngestResult> {
    for (const s of this.refs.values()) await this.writePending(s);
    this.writer.raw(copyTrailer);
    await this.flush();
    this.copy.end();
    await finished(this.copy);

    const resolved = await this.resolveSeries();
    await this.c.query(`CREATE TEMP TABLE tdb_refmap (ref int4 PRIMARY KEY, series_id int8) ON COMMIT DROP`);
    await this.c.query(`INSERT INTO tdb_refmap SELECT * FROM unnest($1::int4[], $2::int8[])`, [
      resolved.map((r) => r.index),
      resolved.map((r) => r.seriesId),
    ]);
    // `point_blocks` has no unique index (migration 0005): duplicate valid times of a series
    // are possible only where its blocks overlap, or where two references (an id and a name)
    // name the same series. Only those series are checked, by reading their blocks back.
    const states = [...this.refs.values()];
    const refsPerSeries = new Map<string, number>();
    for (const r of resolved) refsPerSeries.set(r.seriesId, (refsPerSeries.get(r.seriesId) ?? 0) + 1);
    const suspect = resolved
      .filter((r) => (refsPerSeries.get(r.seriesId) ?? 0) > 1 || states[r.index]?.overlaps)
      .map((r) => r.seriesId);
    if (suspect.length > 0) {
      const dup = await this.duplicateError(resolved, [...new Set(suspect)]);
      if (dup) throw dup;
    }
    // Blocks go in in index order (series, first valid time): a few hundred rows per
    // million points, so the sort is free and the index grows at its right edge.
    await this.c.query(
      `INSERT INTO point_blocks (tenant_id, series_id, first_time, last_time, known_time, change_time, run_id, n,
                                 valid_times, values, nulls, valid_time_ends, annotations, tags, metadata)
       SELECT $1, m.series_id, s.first_time, s.last_time, r.known_time, now(), r.id, s.n,
              s.valid_times, s.values, s.nulls, s.valid_time_ends, s.annotations, s.tags, s.metadata
         FROM tdb_staging s JOIN tdb_refmap m USING (ref)
         CROSS JOIN (SELECT id, known_time FROM runs WHERE id = $2) r
        ORDER BY m.series_id, s.first_time`,
      [this.tenantId, this.runId],
    );
    await this.c.query(`UPDATE runs SET point_count = $1 WHERE id = $2`, [this.points, this.runId]);
    return {
      runId: this.runId,
      pointCount: this.points,
      series: resolved.map((r) => ({
        seriesId: r.seriesId,
        name: r.name,
        labels: r.labels,
        pointCount: r.count,
      })),
    };
  }

  /** Cancels the COPY (sends CopyFail) so the connection can roll back. */
  async abort(err: unknown): Promise<void> {
    if (this.copy.destroyed || this.copy.writableFinished) return;
    this.copy.destroy(err instanceof Error ? err : new Error(String(err)));
    await finished(this.copy).catch(() => {});
  }

  /** Writes points `order` (or all, in order) of `p` as blocks of at most maxBlockPoints. */
  private async writeBlocks(
    state: RefState,
    p: PointColumns,
    order: readonly number[] | undefined,
    n: number,
  ): Promise<void> {
    for (let from = 0; from < n; from += maxBlockPoints) {
      const to = Math.min(n, from + maxBlockPoints);
      const { first, last } = encodeBlock(this.writer, state.index, p, order, from, to);
      if (state.maxLast !== undefined && first <= state.maxLast) state.overlaps = true;
      if (state.maxLast === undefined || last > state.maxLast) state.maxLast = last;
      if (this.writer.length >= flushBytes) await this.flush();
    }
  }

  /** Writes a series' joined short chunks as sorted blocks. */
  private async writePending(state: RefState): Promise<void> {
    const p = state.pending;
    if (!p) return;
    state.pending = undefined;
    const n = p.validTimes.length;
    this.pendingPoints -= n;
    let order: number[] | undefined;
    if (!isIncreasing(p.validTimes)) {
      let dup = -1;
      order = sortedOrder(p.validTimes, state.firstPath, (i) => {
        dup = i;
      });
      // Named like the end-of-upload check: the series' first chunk (the CLI's import
      // looks the line up from that); duplicates inside one chunk were named by add().
      if (dup >= 0)
        throw this.duplicate(
          `${state.firstPath}.valid_times`,
          referenceName(state.ref),
          p.validTimes[dup] as bigint,
        );
    }
    await this.writeBlocks(state, p, order, n);
  }

  /** Names one duplicated (series, valid time) among the given series' staged blocks, if any. */
  private async duplicateError(
    resolved: { index: number; seriesId: string; name: string; labels: Record<string, string> }[],
    seriesIds: string[],
  ): Promise<InvalidInputError | undefined> {
    // A few series at a time, so reading blocks back never holds much of the upload.
    for (let k = 0; k < seriesIds.length; k += 32) {
      const { rows } = await this.c.query<{ series_id: string; valid_times: Buffer }>(
        `SELECT m.series_id::text, s.valid_times
           FROM tdb_staging s JOIN tdb_refmap m USING (ref)
          WHERE m.series_id = ANY($1::int8[])`,
        [seriesIds.slice(k, k + 32)],
      );
      const bySeries = new Map<string, Buffer[]>();
      for (const r of rows) {
        const list = bySeries.get(r.series_id) ?? [];
        list.push(r.valid_times);
        bySeries.set(r.series_id, list);
      }
      for (const [seriesId, blocks] of bySeries) {
        const all = Buffer.concat(blocks).swap64();
        const times = new BigInt64Array(all.buffer, all.byteOffset, all.length / 8).sort();
        for (let i = 1; i < times.length; i++) {
          if (times[i] !== times[i - 1]) continue;
          const series = resolved.find((r) => r.seriesId === seriesId);
          const state = [...this.refs.values()].find((st) => st.index === series?.index);
          return this.duplicate(
            state ? `${state.firstPath}.valid_times` : "chunks",
            series ? seriesKey(series.name, series.labels) : seriesId,
            times[i] as bigint,
          );
        }
      }
    }
    return undefined;
  }

  private duplicate(path: string, series: string, time: bigint): InvalidInputError {
    return new InvalidInputError(
      path,
      `duplicate valid time ${formatUs(time)} for series ${series} in one upload`,
    );
  }

  private refState(chunk: IngestChunk): RefState {
    const key = referenceKey(chunk.ref);
    let state = this.refs.get(key);
    if (!state) {
      state = {
        index: this.refs.size,
        ref: chunk.ref,
        firstPath: chunk.path,
        count: 0,
        maxLast: undefined,
        overlaps: false,
        pending: undefined,
        lastTime: undefined,
      };
      this.refs.set(key, state);
    }
    return state;
  }

  private async flush(): Promise<void> {
    if (this.copyError) throw this.copyError;
    if (this.writer.length === 0) return;
    if (!this.copy.write(this.writer.take())) {
      await Promise.race([
        once(this.copy, "drain"),
        finished(this.copy).then(() => {
          throw new Error("COPY ended early");
        }),
      ]);
    }
  }

  /** Maps every reference to a series id, creating missing series when the header asked for it. */
  private async resolveSeries() {
    const states = [...this.refs.values()];
    const out: {
      index: number;
      seriesId: string;
      name: string;
      labels: Record<string, string>;
      count: number;
    }[] = [];
    const byId = states.filter((s) => s.ref.kind === "id");
    if (byId.length > 0) {
      const { rows } = await this.c.query<{ id: string; name: string; labels: Record<string, string> }>(
        `SELECT id::text, name, labels FROM series WHERE id = ANY($1::int8[])`,
        [byId.map((s) => (s.ref.kind === "id" ? s.ref.seriesId.toString() : ""))],
      );
      const found = new Map(rows.map((r) => [r.id, r]));
      for (const s of byId) {
        const id = s.ref.kind === "id" ? s.ref.seriesId.toString() : "";
        const row = found.get(id);
        if (!row) throw new InvalidInputError(`${s.firstPath}.series.series_id`, `unknown series ${id}`);
        out.push({ index: s.index, seriesId: id, name: row.name, labels: row.labels, count: s.count });
      }
    }
    const byName = states.filter((s) => s.ref.kind === "name");
    if (byName.length > 0) {
      const names = byName.map((s) => (s.ref.kind === "name" ? s.ref.name : ""));
      const labels = byName.map((s) => JSON.stringify(s.ref.kind === "name" ? s.ref.labels : {}));
      if (this.run.createMissingSeries) {
        await this.c.query(
          `INSERT INTO series (tenant_id, name, labels, kind)
           SELECT $1, n, l, $4 FROM unnest($2::text[], $3::jsonb[]) AS t(n, l)
           ON CONFLICT (tenant_id, name, labels) DO NOTHING`,
          [this.tenantId, names, labels, this.run.newSeriesKind],
        );
      }
      const { rows } = await this.c.query<{ i: number; id: string }>(
        `SELECT t.i::int4 AS i, s.id::text AS id
           FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS t(n, l, i)
           JOIN series s ON s.name = t.n AND s.labels = t.l`,
        [names, labels],
      );
      const found = new Map(rows.map((r) => [r.i - 1, r.id]));
      byName.forEach((s, k) => {
        const id = found.get(k);
        const ref = s.ref as Extract<SeriesReference, { kind: "name" }>;
        if (!id) {
          throw new InvalidInputError(
            `${s.firstPath}.series`,
            `unknown series ${seriesKey(ref.name, ref.labels)} (set header.create_missing_series to create it)`,
          );
        }
        out.push({ index: s.index, seriesId: id, name: ref.name, labels: ref.labels, count: s.count });
      });
    }
    return out;
  }
}

/**
 * Indices that sort `times` ascending; a duplicate throws (naming its position in the
 * chunk, or through `onDuplicate` for joined chunks).
 */
function sortedOrder(times: readonly bigint[], path: string, onDuplicate?: (i: number) => void): number[] {
  const order = times.map((_, i) => i);
  order.sort((a, b) => {
    const x = times[a] as bigint;
    const y = times[b] as bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (let k = 1; k < order.length; k++) {
    const i = order[k] as number;
    if (times[i] === times[order[k - 1] as number]) {
      if (onDuplicate) {
        onDuplicate(i);
        return order;
      }
      throw new InvalidInputError(
        `${path}.valid_times[${i}]`,
        `duplicate valid time ${formatUs(times[i] as bigint)} in this chunk`,
      );
    }
  }
  return order;
}

function isIncreasing(times: readonly bigint[]): boolean {
  for (let k = 1; k < times.length; k++) if ((times[k] as bigint) <= (times[k - 1] as bigint)) return false;
  return true;
}

function emptyPending(): Pending {
  return {
    validTimes: [],
    values: [],
    nulls: undefined,
    validTimeEnds: undefined,
    annotations: undefined,
    tags: undefined,
    metadata: undefined,
  };
}

/** Appends a chunk's columns to joined ones; optional columns appear (back-filled) when first used. */
function appendColumns(p: Pending, c: IngestChunk, before: number): void {
  const n = c.validTimes.length;
  for (let i = 0; i < n; i++) {
    p.validTimes.push(c.validTimes[i] as bigint);
    p.values.push(c.values[i] as number);
  }
  p.nulls = appendOptional(p.nulls, c.nulls, before, n, false);
  p.validTimeEnds = appendOptional(p.validTimeEnds, c.validTimeEnds, before, n, 0n);
  p.annotations = appendOptional(p.annotations, c.annotations, before, n, "");
  p.tags = appendOptional(p.tags, c.tags, before, n, [] as readonly string[]);
  p.metadata = appendOptional(p.metadata, c.metadata, before, n, "");
}

function appendOptional<T>(
  into: T[] | undefined,
  from: readonly T[] | undefined,
  before: number,
  n: number,
  none: T,
): T[] | undefined {
  if (!into && !from) return undefined;
  const out = into ?? new Array<T>(before).fill(none);
  for (let i = 0; i < n; i++) out.push(from ? (from[i] as T) : none);
  return out;
}

/** RFC 3339 rendering of epoch microseconds, for messages. */
export function formatUs(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString();
}
