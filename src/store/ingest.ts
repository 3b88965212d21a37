import { once } from "node:events";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { InvalidInputError, LimitExceededError } from "../errors.js";
import { CopyWriter, copyHeader, copyTrailer } from "./copy-binary.js";
import { type IngestChunk, referenceKey, type SeriesReference, seriesKey } from "./point-chunk.js";
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

interface RefState {
  index: number;
  ref: SeriesReference;
  firstPath: string;
  count: number;
  lastTime: bigint | undefined;
}

/**
 * One upload in flight, inside a tenant transaction. Rows are encoded in binary COPY
 * format and streamed into a temporary staging table while the client is still sending
 * (COPY is refused on RLS tables); `finish()` resolves series references and moves the rows
 * into `points` under the tenant's RLS policy. Any error before commit leaves nothing: the
 * caller's transaction rolls back, after `abort()` has cancelled the COPY.
 */
export class Ingest {
  private readonly refs = new Map<string, RefState>();
  private readonly writer = new CopyWriter();
  private points = 0;
  /** True while the staging rows are in (reference, valid_time) order, as COPY wrote them. */
  private inOrder = true;
  private lastRef = -1;
  /** True while every reference's times only increase: no duplicate is possible. */
  private increasing = true;

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
    await c.query(
      `CREATE TEMP TABLE tdb_staging (
         ref int4, valid_time timestamptz, value float8, valid_time_end timestamptz,
         annotation text, tags text[], metadata jsonb) ON COMMIT DROP`,
    );
    const copy = c.query(copyFrom("COPY tdb_staging FROM STDIN (FORMAT binary)"));
    // Errors surface through finish()/write(); this keeps an early one from being unhandled.
    copy.on("error", () => {});
    const ingest = new Ingest(c, tenantId, run, rows[0]?.id ?? "", copy);
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
    const first = chunk.validTimes[0];
    // Chunks of one series that arrive in time order can be checked for duplicates here;
    // anything else is caught by the duplicate check at the end.
    if (chunk.sorted && first !== undefined && state.lastTime !== undefined && first <= state.lastTime) {
      if (first === state.lastTime) {
        throw new InvalidInputError(
          `${chunk.path}.valid_times[0]`,
          `duplicate valid time ${formatUs(first)} for this series in one upload`,
        );
      }
    }
    const order = chunk.sorted ? undefined : sortedOrder(chunk.validTimes, chunk.path);
    if (n > 0) {
      const continues =
        state.index === this.lastRef && first !== undefined && first > (state.lastTime as bigint);
      if (!continues && state.index <= this.lastRef) this.inOrder = false;
      if (!chunk.sorted) this.inOrder = false;
      if (!chunk.sorted || (state.lastTime !== undefined && (first as bigint) <= state.lastTime))
        this.increasing = false;
      this.lastRef = state.index;
    }
    const w = this.writer;
    for (let j = 0; j < n; j++) {
      const i = order ? (order[j] as number) : j;
      w.fieldCount(7);
      w.int4(state.index);
      w.timestampUs(chunk.validTimes[i] as bigint);
      if (chunk.nulls?.[i]) w.null();
      else w.float8(chunk.values[i] as number);
      const end = chunk.validTimeEnds?.[i];
      if (end === undefined || end === 0n) w.null();
      else w.timestampUs(end);
      const annotation = chunk.annotations?.[i];
      if (annotation) w.text(annotation);
      else w.null();
      const tags = chunk.tags?.[i];
      if (tags && tags.length > 0) w.textArray(tags);
      else w.null();
      const metadata = chunk.metadata?.[i];
      if (metadata) w.jsonb(metadata);
      else w.null();
      if (w.length >= flushBytes) await this.flush();
    }
    state.count += n;
    if (n > 0) state.lastTime = chunk.sorted ? chunk.validTimes[n - 1] : maxOf(chunk.validTimes);
    this.points += n;
  }

  /** Ends the COPY, resolves series, moves rows into `points`; returns what was stored. */
  async finish(): Promise<IngestResult> {
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
    // Rows go into `points` in index order (series, valid_time): index inserts then append
    // to a few hot leaf pages instead of splitting pages all over the tree, and the heap
    // ends up in the order LATEST reads it. The sort is skipped when COPY already wrote
    // that order (references in ascending series id, each in ascending time).
    const ordered = this.inOrder && ascendingIds(resolved);
    if (!ordered) await this.c.query("SET LOCAL work_mem = '128MB'");
    // `points` has no unique index (0004: it would cost every insert a uniqueness check
    // and the tenant column in the key), so duplicates within the upload are looked for
    // here, and only when the upload's order does not already rule them out.
    const distinct = new Set(resolved.map((r) => r.seriesId)).size === resolved.length;
    if (!(this.increasing && distinct)) {
      const dup = await this.duplicateError(resolved);
      if (dup) throw dup;
    }
    await this.c.query(
      `INSERT INTO points (tenant_id, series_id, valid_time, known_time, change_time, run_id,
                           value, valid_time_end, annotation, tags, metadata)
       SELECT $1, m.series_id, s.valid_time, r.known_time, now(), r.id,
              s.value, s.valid_time_end, s.annotation, s.tags, s.metadata
         FROM tdb_staging s JOIN tdb_refmap m USING (ref)
         CROSS JOIN (SELECT id, known_time FROM runs WHERE id = $2) r
       ${ordered ? "" : "ORDER BY m.series_id, s.valid_time"}`,
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

  /** Names one duplicated (series, valid time) of this upload, found in the staging table, if any. */
  private async duplicateError(resolved: { index: number; name: string; labels: Record<string, string> }[]) {
    // Two references (an id and a name) may name the same series: group by series.
    const { rows } = await this.c.query<{ ref: number; vt: string }>(
      `SELECT min(s.ref) AS ref, tdb_ts_to_us(s.valid_time)::text AS vt
         FROM tdb_staging s JOIN tdb_refmap m USING (ref)
        GROUP BY m.series_id, s.valid_time HAVING count(*) > 1 LIMIT 1`,
    );
    const dup = rows[0];
    if (!dup) return undefined;
    const series = resolved.find((r) => r.index === dup?.ref);
    const state = [...this.refs.values()].find((r) => r.index === dup?.ref);
    const which = series ? seriesKey(series.name, series.labels) : "a series";
    const when = dup ? formatUs(BigInt(dup.vt)) : "";
    return new InvalidInputError(
      state ? `${state.firstPath}.valid_times` : "chunks",
      `duplicate valid time ${when} for series ${which} in one upload`,
    );
  }

  private refState(chunk: IngestChunk): RefState {
    const key = referenceKey(chunk.ref);
    let state = this.refs.get(key);
    if (!state) {
      state = { index: this.refs.size, ref: chunk.ref, firstPath: chunk.path, count: 0, lastTime: undefined };
      this.refs.set(key, state);
    }
    return state;
  }

  private async flush(): Promise<void> {
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

/** Indices that sort `times` ascending; throws on a duplicate (naming its position). */
function sortedOrder(times: readonly bigint[], path: string): number[] {
  const order = times.map((_, i) => i);
  order.sort((a, b) => {
    const x = times[a] as bigint;
    const y = times[b] as bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  for (let k = 1; k < order.length; k++) {
    const i = order[k] as number;
    if (times[i] === times[order[k - 1] as number]) {
      throw new InvalidInputError(
        `${path}.valid_times[${i}]`,
        `duplicate valid time ${formatUs(times[i] as bigint)} in this chunk`,
      );
    }
  }
  return order;
}

/** The largest of a non-empty list of times. */
function maxOf(times: readonly bigint[]): bigint {
  let m = times[0] as bigint;
  for (const t of times) if (t > m) m = t;
  return m;
}

/** True when references numbered in upload order map to ascending series ids. */
function ascendingIds(resolved: { index: number; seriesId: string }[]): boolean {
  const byIndex = [...resolved].sort((a, b) => a.index - b.index);
  for (let k = 1; k < byIndex.length; k++) {
    if (
      BigInt((byIndex[k] as { seriesId: string }).seriesId) <=
      BigInt((byIndex[k - 1] as { seriesId: string }).seriesId)
    )
      return false;
  }
  return true;
}

/** RFC 3339 rendering of epoch microseconds, for messages. */
export function formatUs(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString();
}
